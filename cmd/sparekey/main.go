// Command sparekey runs Sparekey: the server (serve), the roster import
// (import roster) and the lock simulator (simulate).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // property time zones work on hosts without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil && !errors.Is(err, errHelp) {
		fmt.Fprintln(os.Stderr, "sparekey:", err)
		os.Exit(1)
	}
}

const usage = `Sparekey gets locked-out residents back inside.

Usage:
  sparekey serve [flags]                       run the server (--demo for the demo)
  sparekey import roster --db DB FILE.csv      import residents from a CSV roster
  sparekey simulate --mqtt URL --locks N       run virtual locks on an MQTT broker
  sparekey staff add --db DB --email E --role R  add a staff account (password on stdin)
  sparekey help                                this text

Run "sparekey serve -h" to see the server's flags.
`

// run is the whole program; main only gives it the process's context,
// arguments, environment and standard streams, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("missing command")
	}
	switch args[1] {
	case "serve":
		return serve(ctx, args[2:], getenv, stdout, stderr)
	case "import":
		if len(args) > 2 && isHelp(args[2]) {
			return importRoster(ctx, []string{"-h"}, getenv, stdout, stderr)
		}
		if len(args) < 3 || args[2] != "roster" {
			return fmt.Errorf("usage: sparekey import roster --db DB [--welcome --base-url URL] FILE.csv")
		}
		return importRoster(ctx, args[3:], getenv, stdout, stderr)
	case "simulate":
		return simulate(ctx, args[2:], getenv, stdout, stderr)
	case "staff":
		return staffCommand(ctx, args[2:], getenv, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[1])
}
