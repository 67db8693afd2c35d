package main

import (
	"context"
	"errors"
)

func queryCommand() command {
	return command{
		name:    "query",
		summary: "(not yet implemented)",
		run: func(ctx context.Context, args []string) error {
			return errors.New("not implemented yet")
		},
	}
}
