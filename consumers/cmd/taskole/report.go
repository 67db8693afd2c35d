package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/tools/report"
)

const reportSummary = "write the HTML report (inline SVG charts) from the BI query pack, and print it as text"

func reportCommand() command {
	return command{name: "report", summary: reportSummary, help: reportSummary + ".", flags: reportFlags}
}

// reportFlags registers the flags of `taskole report`.
func reportFlags(fs *flag.FlagSet) action {
	out := fs.String("out", "report.html", "HTML file to write (empty: none)")
	text := fs.Bool("text", true, "print the report as text to standard output")
	until := fs.String("until", "", "last month of the report, any day of it as YYYY-MM-DD (default: the month of the latest purchase)")
	title := fs.String("title", "", "report title (default: Taskole marketplace report)")
	timeout := fs.Duration("timeout", 5*time.Minute, "timeout for all queries")
	return func(ctx context.Context, c *common) error {
		src := report.Source{Title: *title}
		if *until != "" {
			t, err := time.Parse(time.DateOnly, *until)
			if err != nil {
				return fmt.Errorf("reading --until: %w", err)
			}
			src.Until = t
		}
		var data report.Data
		err := c.withClickHouse(ctx, *timeout, func(ctx context.Context, conn clickhouse.Conn) (err error) {
			data, err = report.Load(ctx, conn, src)
			return err
		})
		if err != nil {
			return err
		}
		if *text {
			if err := report.Text(os.Stdout, data); err != nil {
				return err
			}
		}
		return writeHTML(*out, data)
	}
}

// writeHTML writes the HTML report of data to out (none when out is empty).
func writeHTML(out string, data report.Data) error {
	if out == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := report.HTML(&buf, data); err != nil {
		return err
	}
	if err := writeReport(out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%d bytes)\n", out, buf.Len())
	return nil
}

// writeReport writes b to out beside the target and renames it, so a reader never sees half
// a report.
func writeReport(out string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".report-*.html")
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing report %s: %w", tmp.Name(), errors.Join(werr, cerr))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing report: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing report %s: %w", out, err)
	}
	return nil
}
