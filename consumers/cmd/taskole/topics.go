package main

import (
	"context"
	"errors"
)

func topicsCommand() command {
	return command{
		name:    "topics",
		summary: "(not yet implemented)",
		run: func(ctx context.Context, args []string) error {
			return errors.New("not implemented yet")
		},
	}
}
