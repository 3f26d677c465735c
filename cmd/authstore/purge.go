package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// purgeCommand is `authstore purge`: delete expired rows in batches.
func (a *app) purgeCommand() *cobra.Command {
	var (
		dryRun    bool
		asJSON    *output
		batchSize int
		retention durationFlag
	)
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Delete expired tokens, codes, sessions, resets and verifications",
		Long: `purge deletes the rows that have expired from every table whose rows expire:
oauth_access_tokens, oauth_refresh_tokens, oauth_authorization_codes,
oauth_personal_access_tokens, oauth_auth_requests, sessions, password_resets,
email_verifications and two_factor_challenges (a used challenge too), retired
signing keys past their removal time, and two_factor_used_steps outside
every TOTP window. It deletes what the monitoring views oauth_expired_tokens
and expired_auth_records list, and nothing still needed: a used refresh
token stays while any token of its family is alive.
With --activity-retention it also deletes activity-log rows older than that;
without it the activity log is kept forever.

Rows go in batches of --batch-size (default 1000), each its own short
transaction, so purge can run while the server serves traffic. It is safe
to interrupt (Ctrl-C): every batch already deleted stays deleted, and a
second run continues where the first stopped.

While it works, purge prints a line per batch, or a progress bar per table
when standard output is a terminal; then a summary: the rows deleted per
table and the total. With --dry-run it counts the rows it would delete and
deletes nothing.

With --json it prints no progress, only one JSON object:
  {"tables": {"oauth_access_tokens": 12, "sessions": 3, ...},
   "total": 15, "dry_run": false}

DURATION is a Go duration (90m, 36h) or a number of days (30d).
The schema must be migrated (authstore migrate up).`,
		Example: `  # See what would be deleted
  authstore purge --dry-run

  # Delete expired rows, 500 per statement
  authstore purge --batch-size 500

  # Also drop activity-log rows older than 90 days; machine-readable result
  authstore purge --activity-retention 90d --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if batchSize < 1 {
				return usagef("--batch-size must be a positive number of rows, got %d", batchSize)
			}
			var open []authstore.Option
			if dryRun {
				open = append(open, authstore.WithReadOnly()) // it only counts: a read-only copy will do
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				opts := repositories.PurgeOptions{
					BatchSize:         batchSize,
					DryRun:            dryRun,
					ActivityRetention: retention.d,
				}
				var rep *purgeReporter
				if !asJSON.JSON() {
					rep = &purgeReporter{w: a.stdout, dryRun: dryRun}
					if !dryRun && isTerminal(a.stdout) {
						// The backlog per table sizes the progress bars;
						// Stats and Purge use the same predicates.
						st, err := s.Cleanup.Stats(ctx)
						if err != nil {
							return err
						}
						rep.bars = map[string]int64{}
						for _, t := range st {
							rep.bars[t.Table] = t.Expired
						}
						if retention.d > 0 {
							var n int64
							err := s.DB().WithContext(ctx).Model(&models.Activity{}).
								Where("created_at < ?", s.Now().Add(-retention.d)).Count(&n).Error
							if err != nil {
								return repositories.Translate("count activity", err)
							}
							rep.bars["user_activity_log"] = n
						}
					}
					opts.Progress = rep.progress
				}
				res, err := s.Cleanup.Purge(ctx, opts)
				if rep != nil {
					rep.finish()
				}
				if err != nil {
					if !asJSON.JSON() && res.Total > 0 {
						// Say what was deleted before the failure: it is
						// committed.
						a.printPurgeSummary(res)
					}
					return err
				}
				if asJSON.JSON() {
					return printJSON(a.stdout, res)
				}
				return a.printPurgeSummary(res)
			}, open...)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count the rows that would be deleted; delete nothing")
	cmd.Flags().IntVar(&batchSize, "batch-size", repositories.DefaultPurgeBatchSize, "rows deleted per statement (at least 1)")
	cmd.Flags().Var(&retention, "activity-retention", "also delete activity-log rows older than this DURATION (e.g. 90d); default: keep them")
	asJSON = addOutput(cmd, "the result")
	return cmd
}

// purgeReporter prints the progress of a purge: a line per batch, or, when
// bars is set (standard output is a terminal), a progress bar per table.
type purgeReporter struct {
	w      io.Writer
	dryRun bool
	// bars maps a table to its expected backlog; nil for line mode.
	bars  map[string]int64
	table string
	bar   *progressbar.ProgressBar
}

func (r *purgeReporter) progress(table string, batch, total int64) {
	switch {
	case r.dryRun:
		fmt.Fprintf(r.w, "%s: %d %s would be deleted\n", table, batch, rows(batch))
	case r.bars == nil:
		fmt.Fprintf(r.w, "%s: deleted %d %s (%d so far)\n", table, batch, rows(batch), total)
	default:
		// A bar completes when it reaches its max: if more rows go than
		// were counted (they expired since), keep the max ahead of the
		// total until finish.
		expected := r.bars[table]
		if table != r.table {
			r.finish()
			r.table = table
			limit := expected
			if total > expected {
				limit = total + 1
			}
			r.bar = progressbar.NewOptions64(limit,
				progressbar.OptionSetWriter(r.w),
				progressbar.OptionSetDescription(fmt.Sprintf("%-29s", table)),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(false),
				progressbar.OptionThrottle(65*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(r.w) }),
			)
		}
		if total > expected && total >= r.bar.GetMax64() {
			r.bar.ChangeMax64(total + 1)
		}
		_ = r.bar.Set64(total)
	}
}

// finish completes the current progress bar, if any, at the rows actually
// deleted.
func (r *purgeReporter) finish() {
	if r.bar == nil {
		return
	}
	if !r.bar.IsFinished() {
		r.bar.ChangeMax64(int64(r.bar.State().CurrentNum))
		_ = r.bar.Finish()
	}
	r.bar, r.table = nil, ""
}

// printPurgeSummary prints the rows deleted per table and the total.
func (a *app) printPurgeSummary(res repositories.PurgeResult) error {
	if res.DryRun {
		fmt.Fprintf(a.stdout, "dry run: %d expired %s would be deleted; nothing was deleted\n", res.Total, rows(res.Total))
	} else {
		fmt.Fprintf(a.stdout, "deleted %d expired %s\n", res.Total, rows(res.Total))
	}
	tables := orderedTables(res.Tables)
	nameWidth, numWidth := len("total"), len(strconv.FormatInt(res.Total, 10))
	for _, t := range tables {
		nameWidth = max(nameWidth, len(t))
	}
	for _, t := range tables {
		fmt.Fprintf(a.stdout, "  %-*s  %*d\n", nameWidth, t, numWidth, res.Tables[t])
	}
	_, err := fmt.Fprintf(a.stdout, "  %-*s  %*d\n", nameWidth, "total", numWidth, res.Total)
	return err
}

// tableOrder is the order purge visits the tables in, which the summaries
// follow.
var tableOrder = []string{
	"oauth_access_tokens",
	"oauth_refresh_tokens",
	"oauth_authorization_codes",
	"oauth_auth_requests",
	"oauth_personal_access_tokens",
	"sessions",
	"password_resets",
	"email_verifications",
	"signing_keys",
	"two_factor_used_steps",
	"two_factor_challenges",
	"user_activity_log",
}

// orderedTables returns the keys of m in tableOrder, then any other in
// alphabetical order.
func orderedTables(m map[string]int64) []string {
	var out, rest []string
	for _, t := range tableOrder {
		if _, ok := m[t]; ok {
			out = append(out, t)
		}
	}
	for t := range m {
		if !slices.Contains(tableOrder, t) {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func rows(n int64) string {
	if n == 1 {
		return "row"
	}
	return "rows"
}

// The helpers below are shared by the commands of purge.go, stats.go,
// client.go, user.go and activity.go.

// cliUserAgent is the user agent recorded in the activity log for changes
// made with this CLI.
const cliUserAgent = "authstore-cli"

// withStore opens the Store, calls fn and closes it. The context carries
// request metadata naming the CLI, for the activity log. It refuses memory
// storage: such a database would be empty and gone at exit.
func (a *app) withStore(ctx context.Context, fn func(context.Context, *authstore.Store) error, opts ...authstore.Option) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	return a.withConfigStore(ctx, cfg, fn, opts...)
}

// withConfigStore is withStore over cfg instead of the environment's.
func (a *app) withConfigStore(ctx context.Context, cfg config.Config, fn func(context.Context, *authstore.Store) error, opts ...authstore.Option) (err error) {
	if cfg.Memory() {
		return errors.New(`OAUTH_STORAGE and AUTH_SESSION_STORAGE are "memory": there is no database to work on`)
	}
	s, err := a.openConfigStore(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	return fn(models.WithRequestMeta(ctx, models.RequestMeta{UserAgent: cliUserAgent}), s)
}

// withExistingStore is withStore for a command that only reads: a SQLite
// file is opened read-only (authstore.WithReadOnly), so the command works
// on a read-only copy and refuses a file that does not exist instead of
// creating an empty one (a mistyped path would otherwise look like an
// empty database).
func (a *app) withExistingStore(ctx context.Context, fn func(context.Context, *authstore.Store) error) error {
	return a.withStore(ctx, fn, authstore.WithReadOnly())
}

// printJSON writes v to w as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether v (a reader or writer) is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// durationFlag is a positive duration flag: a Go duration (90m, 36h) or a
// whole or fractional number of days (7d, 1.5d).
type durationFlag struct{ d time.Duration }

func (f *durationFlag) String() string {
	if f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Type() string { return "DURATION" }

func (f *durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	f.d = d
	return nil
}

// parseDuration parses a positive duration: a Go duration or a number of
// days followed by "d".
func parseDuration(s string) (time.Duration, error) {
	const want = "want a positive duration such as 90m, 36h or 7d"
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n != n || n > float64(1<<63-1)/float64(24*time.Hour) {
			return 0, errors.New(want)
		}
		d = time.Duration(n * float64(24*time.Hour))
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, errors.New(want)
		}
	}
	if d <= 0 {
		return 0, errors.New(want)
	}
	return d, nil
}

// humanDuration formats d in its two largest units: 3d 4h, 2h 5m, 4m 10s,
// 12s; "0s" under a second.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Second)
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var parts []string
	for i, u := range units {
		if d >= u.size || (i == len(units)-1 && len(parts) == 0) {
			n := d / u.size
			d -= n * u.size
			parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
		} else if len(parts) > 0 {
			parts = append(parts, "0"+u.name)
		}
		if len(parts) == 2 {
			break
		}
	}
	return strings.Join(parts, " ")
}
