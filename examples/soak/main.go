// Command soak drives the whole cross-boundary journey against the bundled
// fake world from many professionals and patients at once, for a set
// time and rate, while faults are injected on a schedule: latency spikes,
// 429 with Retry-After, 503 storms, connection resets, hanging answers, a
// regional ShCR down, the token endpoint failing, the audit sink slowing
// and failing, and a restart of the application part-way (the audit log
// reopened). It checks as it goes that no data is handed back without its
// audit record, that goroutines, files and connections do not grow once
// load is steady, and that latency recovers after each fault; at the end
// it verifies the audit log and that no acknowledged event is missing.
//
//	go run ./examples/soak -duration 30m -rate 20
//
// It prints a line per interval and a summary; -json writes the whole
// report. It exits non-zero when an invariant broke.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"time"

	"github.com/shcrkit/shcrkit/examples/internal/cli"
)

func main() { cli.Main("soak", 0, run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, jsonPath, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	rep, err := soak(ctx, cfg, stdout)
	if rep != nil && jsonPath != "" {
		b, jerr := json.MarshalIndent(rep, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(jsonPath, b, 0o644)
		}
		if jerr != nil && err == nil {
			err = jerr
		}
	}
	return err
}

func parseFlags(args []string, stderr io.Writer) (config, string, error) {
	cfg := defaultConfig()
	var jsonPath string
	fs := cli.NewFlagSet("soak", stderr)
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to run")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "journeys started per second")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "journeys in flight at most (professionals at their screens)")
	fs.IntVar(&cfg.Users, "users", cfg.Users, "distinct professionals")
	fs.DurationVar(&cfg.Interval, "interval", cfg.Interval, "reporting interval")
	fs.DurationVar(&cfg.Latency, "latency", cfg.Latency, "latency of every fake service (a network's)")
	fs.BoolVar(&cfg.Faults, "faults", cfg.Faults, "inject the fault schedule")
	fs.StringVar(&cfg.AuditDir, "audit-dir", "", "audit log directory (default: a temporary one, removed at the end)")
	fs.StringVar(&jsonPath, "json", "", "write the whole report as JSON to this file")
	if err := cli.Parse(fs, args); err != nil {
		return cfg, "", err
	}
	if err := cli.NoArgs(fs); err != nil {
		return cfg, "", err
	}
	if cfg.Duration < 3*time.Second || cfg.Rate <= 0 || cfg.Workers < 1 || cfg.Users < 1 || cfg.Interval <= 0 || cfg.Latency < 0 {
		return cfg, "", errors.New("-duration must be 3s or more, and -rate, -workers, -users and -interval positive")
	}
	return cfg, jsonPath, nil
}
