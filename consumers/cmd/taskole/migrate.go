package main

import (
	"context"
	"errors"
)

func migrateCommand() command {
	return command{
		name:    "migrate",
		summary: "(not yet implemented)",
		run: func(ctx context.Context, args []string) error {
			return errors.New("not implemented yet")
		},
	}
}
