package main

import (
	"context"
	"errors"
)

func sinkCommand() command {
	return command{
		name:    "sink",
		summary: "(not yet implemented)",
		run: func(ctx context.Context, args []string) error {
			return errors.New("not implemented yet")
		},
	}
}
