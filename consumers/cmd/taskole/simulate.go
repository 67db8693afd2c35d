package main

import (
	"context"
	"errors"
)

func simulateCommand() command {
	return command{
		name:    "simulate",
		summary: "(not yet implemented)",
		run: func(ctx context.Context, args []string) error {
			return errors.New("not implemented yet")
		},
	}
}
