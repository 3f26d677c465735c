package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
)

// statsCommand is `authstore stats`: row counts and the expired backlog.
func (a *app) statsCommand() *cobra.Command {
	var asJSON *output
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show row counts, the expired backlog and its age per table",
		Long: `stats prints, for every table whose rows expire, its row count, how many of
its rows are expired (the backlog that purge would delete now) and how long
ago the oldest of them expired: the lag to alert on when purge does not run.
The activity log's row count comes last; its rows do not expire (see purge
--activity-retention). Ages are shown as 3d 4h, 2h 5m, 12s. The signing keys
are also counted by state (next, current, retired, removed; "states" in
--json).

With --json it prints one JSON object; ages are in nanoseconds and in
seconds:
  {"tables": [{"table": "sessions", "rows": 10, "expired": 2,
               "oldest_expired_age_ns": 7200000000000,
               "oldest_expired_age_seconds": 7200}, ...],
   "total_rows": 120, "total_expired": 14}

The schema must be migrated (authstore migrate up).`,
		Example: `  authstore stats
  authstore stats --json | jq '.total_expired'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				st, err := s.Cleanup.Stats(ctx)
				if err != nil {
					return err
				}
				if asJSON.JSON() {
					return printJSON(a.stdout, newStatsJSON(st))
				}
				return a.printStats(st, s.Config().Tables())
			})
		},
	}
	asJSON = addOutput(cmd, "the statistics")
	return cmd
}

// statsJSON is the output of `stats --json`.
type statsJSON struct {
	Tables       []tableStatsJSON `json:"tables"`
	TotalRows    int64            `json:"total_rows"`
	TotalExpired int64            `json:"total_expired"`
}

type tableStatsJSON struct {
	repositories.TableStats
	OldestExpiredAgeSeconds float64 `json:"oldest_expired_age_seconds"`
}

func newStatsJSON(st []repositories.TableStats) statsJSON {
	out := statsJSON{Tables: []tableStatsJSON{}}
	for _, t := range st {
		out.Tables = append(out.Tables, tableStatsJSON{TableStats: t, OldestExpiredAgeSeconds: t.OldestExpiredAge.Seconds()})
		out.TotalRows += t.Rows
		out.TotalExpired += t.Expired
	}
	return out
}

// printStats prints st as a table, each table under its name in the
// database (with AUTHSTORE_TABLE_PREFIX and AUTHSTORE_SCHEMA).
func (a *app) printStats(st []repositories.TableStats, tables config.Tables) error {
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tROWS\tEXPIRED\tOLDEST EXPIRED")
	var rowsTotal, expiredTotal int64
	for _, t := range st {
		rowsTotal += t.Rows
		expiredTotal += t.Expired
		expired, age := fmt.Sprint(t.Expired), "-"
		switch {
		case t.Table == "user_activity_log":
			expired = "-" // kept until a retention purge
		case t.Expired > 0:
			age = humanDuration(t.OldestExpiredAge) + " ago"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", tables.Name(t.Table), t.Rows, expired, age)
	}
	fmt.Fprintf(w, "total\t%d\t%d\n", rowsTotal, expiredTotal)
	if err := w.Flush(); err != nil {
		return err
	}
	for _, t := range st {
		if t.States != nil {
			fmt.Fprintf(a.stdout, "%s by state: %d next, %d current, %d retired, %d removed (purge deletes the removed)\n", tables.Name(t.Table),
				t.States[models.KeyStateNext], t.States[models.KeyStateCurrent], t.States[models.KeyStateRetired], t.States[models.KeyStateRemoved])
		}
	}
	return nil
}
