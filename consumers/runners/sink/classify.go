package sink

import (
	"context"
	sqldriver "database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/schemas"
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

// ClickHouse exception codes (ErrorCodes.cpp) the sink treats as fatal: no retry can fix
// them, an operator must act.
const (
	codeNoSuchColumnInTable  int32 = 16
	codeUnknownIdentifier    int32 = 47
	codeTypeMismatch         int32 = 53
	codeUnknownTable         int32 = 60
	codeSyntaxError          int32 = 62
	codeUnknownDatabase      int32 = 81
	codeReadonly             int32 = 164
	codeUnknownUser          int32 = 192
	codeWrongPassword        int32 = 193
	codeAccessDenied         int32 = 497
	codeAuthenticationFailed int32 = 516
)

// fatalCode reports whether a ClickHouse exception code is one no retry can fix.
func fatalCode(code int32) bool {
	switch code {
	case codeNoSuchColumnInTable, codeUnknownIdentifier, codeTypeMismatch, codeUnknownTable,
		codeSyntaxError, codeUnknownDatabase, codeReadonly, codeUnknownUser, codeWrongPassword,
		codeAccessDenied, codeAuthenticationFailed:
		return true
	}
	return false
}

// classify is the one place that decides how the sink treats an error.
func classify(err error) class {
	var fe *fatalError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &fe):
		return fatal
	case errors.Is(err, schemas.ErrInvalid):
		return poison
	case errors.Is(err, context.Canceled), errors.Is(err, errStopping):
		return fatal // shutting down: stop, do not retry
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		if fatalCode(ex.Code) {
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
