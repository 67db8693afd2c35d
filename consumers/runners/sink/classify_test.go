package sink

import (
	"context"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// TestClassify pins the class of every kind of error the sink meets at the ClickHouse
// boundary, with real error values where they can be produced locally.
func TestClassify(t *testing.T) {
	_, decodeFailure := schemas.DecodeBooking([]byte(`{"event_id":"e1","amount":12.5}`))
	if decodeFailure == nil {
		t.Fatal("decoder accepted a bad booking")
	}
	_, refused := net.DialTimeout("tcp", "127.0.0.1:1", time.Second) // nothing listens on port 1
	if refused == nil {
		t.Skip("something listens on 127.0.0.1:1")
	}
	var dns *net.DNSError
	_, dnsFailure := net.LookupHost("host.invalid")
	if !errors.As(dnsFailure, &dns) {
		dnsFailure = &net.DNSError{Err: "no such host", Name: "host.invalid", IsNotFound: true}
	}
	deadline, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-deadline.Done()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	pipe := &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	ex := func(code int32, name string) error {
		return fmt.Errorf("inserting 10 rows into bookings: %w", &clickhouse.Exception{Code: code, Name: name, Message: name})
	}

	tests := []struct {
		name string
		err  error
		want class
	}{
		{"nil", nil, 0},

		// poison: the record can never be stored
		{"decoder error", decodeErr(decodeFailure), poison},
		{"decoder error wrapped", fmt.Errorf("handling record: %w", decodeErr(decodeFailure)), poison},
		{"column range", checkMoney("amount", mustDec("0.00001"), money), poison},
		{"bad enum", badEnum(), poison},

		// retryable: ClickHouse down, network, overload
		{"connection refused (real dial)", fmt.Errorf("reading sink_progress: %w", refused), retryable},
		{"connection reset", fmt.Errorf("inserting: %w", reset), retryable},
		{"broken pipe", pipe, retryable},
		{"read timeout", timeout, retryable},
		{"dns failure", dnsFailure, retryable},
		{"io.EOF", fmt.Errorf("reading packet: %w", io.EOF), retryable},
		{"io.ErrUnexpectedEOF", io.ErrUnexpectedEOF, retryable},
		{"bare ECONNREFUSED", syscall.ECONNREFUSED, retryable},
		{"context deadline", fmt.Errorf("inserting: %w", deadline.Err()), retryable},
		{"acquire conn timeout", clickhouse.ErrAcquireConnTimeout, retryable},
		{"connection closed", clickhouse.ErrConnectionClosed, retryable},
		{"database/sql bad conn", sqldriver.ErrBadConn, retryable},
		{"MEMORY_LIMIT_EXCEEDED", ex(241, "DB::Exception"), retryable},
		{"TOO_MANY_PARTS", ex(252, "DB::Exception"), retryable},
		{"TIMEOUT_EXCEEDED", ex(159, "DB::Exception"), retryable},
		{"NETWORK_ERROR", ex(210, "DB::NetException"), retryable},
		{"TOO_MANY_SIMULTANEOUS_QUERIES", ex(202, "DB::Exception"), retryable},
		{"QUERY_WAS_CANCELLED (server stopping)", ex(394, "DB::Exception"), retryable},

		// fatal: an operator must act, or the sink is stopping
		{"UNKNOWN_TABLE", ex(60, "DB::Exception"), fatal},
		{"UNKNOWN_DATABASE", ex(81, "DB::Exception"), fatal},
		{"NO_SUCH_COLUMN_IN_TABLE", ex(16, "DB::Exception"), fatal},
		{"TYPE_MISMATCH", ex(53, "DB::Exception"), fatal},
		{"SYNTAX_ERROR", ex(62, "DB::Exception"), fatal},
		{"READONLY", ex(164, "DB::Exception"), fatal},
		{"UNKNOWN_USER", ex(192, "DB::Exception"), fatal},
		{"WRONG_PASSWORD", ex(193, "DB::Exception"), fatal},
		{"AUTHENTICATION_FAILED", ex(516, "DB::Exception"), fatal},
		{"partial insert", &fatalError{errors.New("insert into bookings landed partly")}, fatal},
		{"fatal wraps a network error", &fatalError{reset}, fatal},
		{"context canceled", fmt.Errorf("flushing: %w", cancelled.Err()), fatal},
		{"stopping", fmt.Errorf("resuming from clickhouse: %w", errStopping), fatal},
		{"driver conversion", &clickhouse.OpError{Op: "AppendRow", ColumnName: "amount", Err: errors.New("converting string to Decimal is unsupported")}, fatal},
		{"batch invalid", clickhouse.ErrBatchInvalid, fatal},
		{"unknown", errors.New("something unexpected"), fatal},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: classify(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestClassifyServerErrors classifies the errors the real ClickHouse returns.
func TestClassifyServerErrors(t *testing.T) {
	addr := itest.ClickHouse(t)
	db := itest.Database(t)
	ctx := context.Background()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.PrepareBatch(ctx, "INSERT INTO "+db+".no_such_table (a)")
	if got := classify(err); got != fatal {
		t.Errorf("insert into a missing table: %v → %v, want fatal", err, got)
	}
	_, err = conn.Query(ctx, "SELEC 1")
	if got := classify(err); got != fatal {
		t.Errorf("syntax error: %v → %v, want fatal", err, got)
	}
	down, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:1"}, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	err = down.Ping(ctx)
	if got := classify(err); got != retryable {
		t.Errorf("server down: %v → %v, want retryable", err, got)
	}
}

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// badEnum is the refusal of a feedback kind its Enum8 column does not hold.
func badEnum() error {
	var c checker
	c.Enum8("kind", 0, schemas.FeedbackKinds().Unknown("kind", "stars"))
	return c.Refusal()
}
