package sink

import (
	"context"
	sqldriver "database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// class says what to do about an error at the ClickHouse boundary.
type class uint8

const (
	// retryable: back off and try the same batch again (server down, network, overload).
	retryable class = iota + 1
	// poison: this record can never be stored; it goes to the dlq table.
	poison
	// fatal: stop the sink; an operator must act (schema missing, bad credentials, bug).
	fatal
)

func (c class) String() string {
	switch c {
	case retryable:
		return "retryable"
	case poison:
		return "poison"
	case fatal:
		return "fatal"
	}
	return "unknown"
}

// fatalCodes are ClickHouse exception codes no retry can fix.
var fatalCodes = map[int32]bool{
	16:  true, // NO_SUCH_COLUMN_IN_TABLE
	47:  true, // UNKNOWN_IDENTIFIER
	53:  true, // TYPE_MISMATCH
	60:  true, // UNKNOWN_TABLE
	62:  true, // SYNTAX_ERROR
	81:  true, // UNKNOWN_DATABASE
	164: true, // READONLY
	192: true, // UNKNOWN_USER
	193: true, // WRONG_PASSWORD
	497: true, // ACCESS_DENIED
	516: true, // AUTHENTICATION_FAILED
}

// classify is the one place that decides how the sink treats an error.
func classify(err error) class {
	var (
		re *rowError
		fe *fatalError
	)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &fe):
		return fatal
	case errors.As(err, &re):
		return poison
	case errors.Is(err, context.Canceled), errors.Is(err, errStopping):
		return fatal // shutting down: stop, do not retry
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		if fatalCodes[ex.Code] {
			return fatal
		}
		return retryable // overload, memory, too many parts, timeouts, …
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, clickhouse.ErrAcquireConnTimeout), errors.Is(err, clickhouse.ErrConnectionClosed),
		errors.Is(err, sqldriver.ErrBadConn):
		return retryable
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return retryable
	}
	// Unknown errors (driver conversion errors, …) are bugs or schema drift: stop loudly
	// rather than loop or drop.
	return fatal
}
