// Command taskole runs the Taskole revenue-share pipeline: one binary, one subcommand per
// component (ledger, payouts, sink, migrate, query, simulate, report, topics).
//
// Every flag can also be set through the environment: --kafka-brokers reads
// TASKOLE_KAFKA_BROKERS, --clickhouse-addr reads TASKOLE_CLICKHOUSE_ADDR, and so on (upper
// case, dashes to underscores, TASKOLE_ prefix). A flag given on the command line wins.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/taskole/revshare/schemas"
)

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string // one line, in the command list
	help    string // the --help text (empty: summary)
	// metricsAddr is the default of --metrics-addr (empty: off).
	metricsAddr string
	// flags registers the command's own flags on fs, next to the shared ones of common, and
	// returns what runs once they are parsed.
	flags func(fs *flag.FlagSet) action
	// run, when set, replaces flags: it parses its own flags from args (use newFlags and
	// parseFlags), for the commands with positional arguments (topics, query).
	run func(ctx context.Context, args []string) error
}

// action runs a command with its parsed flags (and c.log set) until done or until ctx is cancelled
// (SIGINT/SIGTERM).
type action func(ctx context.Context, c *common) error

// exec parses args into the shared and the command's own flags, then runs the command.
func (cmd command) exec(ctx context.Context, args []string) error {
	if cmd.run != nil {
		return cmd.run(ctx, args)
	}
	fs := newFlags(cmd.name, cmp.Or(cmd.help, cmd.summary))
	var c common
	c.register(fs, cmd.metricsAddr)
	act := cmd.flags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := c.logger(cmd.name)
	if err != nil {
		return err
	}
	c.log = log
	return act(ctx, &c)
}

func commands() []command {
	return []command{
		topicsCommand(),
		migrateCommand(),
		ledgerCommand(),
		payoutsCommand(),
		sinkCommand(),
		simulateCommand(),
		queryCommand(),
		reportCommand(),
		predictCommand(),
		lagCommand(),
		resetCommand(),
		probeCommand(),
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := c.exec(ctx, args[1:])
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "taskole %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "taskole: unknown command %q\n\n", args[0])
	usage(stderr, cmds)
	return 2
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: taskole <command> [flags]   (taskole <command> --help for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag also reads TASKOLE_<FLAG_NAME> from the environment.")
}

// errUsage reports bad flags; the flag package has already printed why.
var errUsage = errors.New("usage")

// newFlags returns a flag set for a subcommand whose errors are returned, not fatal.
func newFlags(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: taskole %s [flags]\n\n%s\n\nflags (each also read from TASKOLE_<NAME>):\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// envName maps a flag name to its environment variable: kafka-brokers → TASKOLE_KAFKA_BROKERS.
func envName(flagName string) string {
	return "TASKOLE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, then sets every flag not given on the command line from its
// TASKOLE_* environment variable when that is set.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 && fs.Name() != "query" {
		fmt.Fprintf(fs.Output(), "taskole %s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return errUsage
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("reading %s: %w", envName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}

// common holds the flags every server-facing subcommand shares.
type common struct {
	brokers       string
	chAddr        string
	chDatabase    string
	topicPrefix   string
	metricsAddr   string
	logLevel      string
	logFormat     string
	instanceLabel string
	conns         conns
	// log is the command's logger, from --log-level and --log-format (set by command.exec,
	// which refuses bad values of those flags before the command runs).
	log *slog.Logger
}

// register adds the shared flags to fs. Which ones a command uses is up to it.
func (c *common) register(fs *flag.FlagSet, metricsAddr string) {
	fs.StringVar(&c.brokers, "kafka-brokers", "127.0.0.1:9092", "comma-separated Kafka seed brokers")
	fs.StringVar(&c.chAddr, "clickhouse-addr", "127.0.0.1:9000", "ClickHouse native protocol address")
	fs.StringVar(&c.chDatabase, "clickhouse-database", "taskole", "ClickHouse database")
	fs.StringVar(&c.topicPrefix, "topic-prefix", "", "prefix added to every topic name (tests, multi-tenant clusters)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", metricsAddr, "listen address of /metrics, /healthz and /readyz, loopback unless opened (e.g. :9464 for all interfaces; empty: off)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.instanceLabel, "instance", "", "instance name used in transactional ids and logs (default: hostname)")
	c.conns.register(fs)
}

func (c *common) brokerList() []string { return prefixed("", c.brokers) }

func (c *common) instance() string {
	if c.instanceLabel != "" {
		return c.instanceLabel
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "taskole"
	}
	return h
}

// logger builds the slog logger from --log-level and --log-format.
func (c *common) logger(component string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("parsing --log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch c.logFormat {
	case "text", "":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	default:
		return nil, fmt.Errorf("unknown --log-format %q (text or json)", c.logFormat)
	}
	return slog.New(h).With("component", component), nil
}

// boundsFlags are the bounds of SPEC R8 (schemas.Bounds), the same flags on every component
// that judges input, so that a deployment sets them once (TASKOLE_MIN_EVENT_TIME, ...).
type boundsFlags struct {
	minTime, maxTime *string
	maxUnits         *int64
	ratePlaces       *int
	maxIDBytes       *int
}

func registerBounds(fs *flag.FlagSet) *boundsFlags {
	d := schemas.Bounds{}.WithDefaults()
	return &boundsFlags{
		minTime:    fs.String("min-event-time", d.MinTime.Format(time.RFC3339), "earliest valid event time (inclusive, RFC 3339)"),
		maxTime:    fs.String("max-event-time", d.MaxTime.Format(time.RFC3339), "latest valid event time (exclusive, RFC 3339)"),
		maxUnits:   fs.Int64("max-amount-units", d.MaxUnits, "largest valid amount, in currency units"),
		ratePlaces: fs.Int("rate-decimals", int(d.RatePlaces), "decimals a referral_rate may have at most"),
		maxIDBytes: fs.Int("max-id-bytes", d.MaxIDBytes, "longest valid id, key or text field, in bytes"),
	}
}

func (f *boundsFlags) bounds() (schemas.Bounds, error) {
	lo, err := schemas.ParseTime(*f.minTime)
	if err != nil {
		return schemas.Bounds{}, fmt.Errorf("parsing --min-event-time: %w", err)
	}
	hi, err := schemas.ParseTime(*f.maxTime)
	if err != nil {
		return schemas.Bounds{}, fmt.Errorf("parsing --max-event-time: %w", err)
	}
	b := schemas.Bounds{MinTime: lo, MaxTime: hi, MaxUnits: *f.maxUnits, RatePlaces: int32(*f.ratePlaces), MaxIDBytes: *f.maxIDBytes}
	return b, b.Validate()
}
