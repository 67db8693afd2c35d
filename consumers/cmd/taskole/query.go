package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/tools/query"
	"github.com/taskole/revshare/sql/queries"
)

// paramFlags collects repeated --param name=value flags.
type paramFlags map[string]string

func (p paramFlags) String() string { return "" }

func (p paramFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	p[name] = value
	return nil
}

const querySummary = "run a BI query of sql/queries and print a table: taskole query NAME [--param k=v]... | NAME --sql | --list"

func queryCommand() command {
	return command{name: "query", summary: querySummary, run: runQuery}
}

// runQuery runs `taskole query`, whose flags may follow the query name: taskole query NAME --param k=v.
func runQuery(ctx context.Context, args []string) error {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	flags := func(fs *flag.FlagSet) action { return queryFlags(fs, name) }
	return command{name: "query", summary: querySummary, flags: flags}.exec(ctx, args)
}

// queryFlags registers the flags of `taskole query` (name: the query named before them).
func queryFlags(fs *flag.FlagSet, name string) action {
	params := paramFlags{}
	fs.Var(params, "param", "query parameter name=value (repeatable; see --list)")
	list := fs.Bool("list", false, "list the queries with their parameters and exit")
	format := fs.String("format", "table", "output format: table, tsv or csv")
	timeout := fs.Duration("timeout", 5*time.Minute, "query timeout")
	stats := fs.Bool("stats", false, "print the wall time and the rows and bytes the server read to stderr")
	sql := fs.Bool("sql", false, "print the query's expanded SQL, {name:Type} placeholders kept (for clickhouse-client --param_name=...), and exit")
	return func(ctx context.Context, c *common) error {
		if name == "" && fs.NArg() > 0 {
			name = fs.Arg(0)
		}
		if *list {
			return listQueries()
		}
		if name == "" || fs.NArg() > 1 || (fs.NArg() == 1 && fs.Arg(0) != name) {
			fmt.Fprintln(fs.Output(), "taskole query: want one query NAME (or --list)")
			return errUsage
		}
		if err := checkFormat(*format); err != nil {
			return err
		}
		q, err := queries.Lookup(name)
		if err != nil {
			return err
		}
		if *sql {
			_, err := fmt.Fprintln(os.Stdout, strings.TrimRight(q.SQL, "\n"))
			return err
		}
		return c.withClickHouse(ctx, *timeout, func(ctx context.Context, conn clickhouse.Conn) error {
			var st queryStats
			if *stats {
				ctx = st.context(ctx)
			}
			t, err := query.Run(ctx, conn, q, params)
			if err != nil {
				return err
			}
			if *stats {
				st.write(os.Stderr)
			}
			return writeTable(t, *format)
		})
	}
}

// writeTable prints t to standard output in format (table, tsv or csv).
func writeTable(t *query.Table, format string) error {
	switch format {
	case "tsv":
		return t.WriteCSV(os.Stdout, '\t')
	case "csv":
		return t.WriteCSV(os.Stdout, ',')
	default:
		return t.Print(os.Stdout)
	}
}

func listQueries() error {
	all, err := queries.All()
	if err != nil {
		return err
	}
	for _, q := range all {
		fmt.Printf("%s — %s\n    %s\n", q.Name, q.Title, q.Description)
		for _, p := range q.Params {
			def := "required"
			if !p.Required {
				def = fmt.Sprintf("default %q", p.Default)
			}
			fmt.Printf("    --param %s=<%s>  %s (%s)\n", p.Name, p.Type, p.Description, def)
		}
		fmt.Println()
	}
	return nil
}

// checkFormat refuses an output format writeTable does not know.
func checkFormat(format string) error {
	switch format {
	case "table", "tsv", "csv":
		return nil
	}
	return fmt.Errorf("unknown --format %q (table, tsv or csv)", format)
}
