package main

import (
	"context"
	"errors"
)

func ledgerCommand() command {
	return command{
		name:    "ledger",
		summary: "(not yet implemented)",
		run: func(ctx context.Context, args []string) error {
			return errors.New("not implemented yet")
		},
	}
}
