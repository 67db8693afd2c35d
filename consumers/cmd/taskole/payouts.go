package main

import (
	"context"
	"errors"
)

func payoutsCommand() command {
	return command{
		name:    "payouts",
		summary: "(not yet implemented)",
		run: func(ctx context.Context, args []string) error {
			return errors.New("not implemented yet")
		},
	}
}
