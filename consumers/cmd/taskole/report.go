package main

import (
	"context"
	"errors"
)

func reportCommand() command {
	return command{
		name:    "report",
		summary: "(not yet implemented)",
		run: func(ctx context.Context, args []string) error {
			return errors.New("not implemented yet")
		},
	}
}
