package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
)

// activityCommand is `authstore activity`: read the audit trail.
func (a *app) activityCommand() *cobra.Command {
	var (
		user   string
		since  durationFlag
		limit  int
		asJSON *output
	)
	cmd := &cobra.Command{
		Use:   "activity [--user ID] [--since DURATION] [--limit N]",
		Short: "Show the activity log (audit trail), newest first",
		Long: fmt.Sprintf(`activity prints events of the activity log (table user_activity_log),
newest first: registrations, logins and failed logins, sessions, password
resets, email verifications, token and client events. Each line gives the
time (UTC), the event, the user id (- for none), the IP address and the
event's details as a JSON object; details never hold a secret.

--user ID keeps the events of one user; --since DURATION those of the last
DURATION (a Go duration such as 90m or 36h, or days such as 7d); both may be
combined. --limit caps the events shown (1 to %d, default 50).

An ID that is not a UUID, a bad DURATION or a --limit out of range is bad
usage (exit 2). With --json it prints one JSON object:
  {"events": [{"id": 42, "user_id": "...", "event": "user.login",
               "ip_address": "203.0.113.7", "user_agent": "...",
               "metadata": {...}, "created_at": "..."}, ...]}`, repositories.MaxListLimit),
		Example: `  authstore activity
  authstore activity --since 24h
  authstore activity --user 0b4c6a0e-3d0f-4a59-9c1e-2f8e3a7d5b21 --limit 200 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > repositories.MaxListLimit {
				return usagef("--limit must be 1 to %d, got %d", repositories.MaxListLimit, limit)
			}
			var userID models.UUID
			if cmd.Flags().Changed("user") {
				id, err := models.ParseUUID(user)
				if err != nil {
					return usagef("--user %q is not a UUID", clip(user, 64))
				}
				userID = id
			}
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				var cutoff time.Time
				if since.d > 0 {
					cutoff = s.Now().Add(-since.d)
				}
				var events []models.Activity
				var err error
				if userID != "" {
					// The user's events newest first: those since the
					// cut-off are a prefix, so filtering the first limit
					// of them gives the first limit since the cut-off.
					events, err = s.Activity.ListForUser(ctx, userID, limit)
					if since.d > 0 {
						i := len(events)
						for i > 0 && events[i-1].CreatedAt.Before(cutoff) {
							i--
						}
						events = events[:i]
					}
				} else {
					events, err = s.Activity.ListSince(ctx, cutoff, limit)
				}
				if err != nil {
					return err
				}
				if asJSON.JSON() {
					out := activityListJSON{Events: []activityJSON{}}
					for _, e := range events {
						out.Events = append(out.Events, newActivityJSON(e))
					}
					return printJSON(a.stdout, out)
				}
				if len(events) == 0 {
					fmt.Fprintln(a.stdout, "no events")
					return nil
				}
				w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(w, "TIME\tEVENT\tUSER\tIP\tDETAILS")
				for _, e := range events {
					uid, ip := "-", e.IPAddress
					if e.UserID != nil {
						uid = e.UserID.String()
					}
					if ip == "" {
						ip = "-"
					}
					details := strings.TrimSpace(e.Metadata)
					if details == "" || details == "{}" || details == "null" {
						details = "-"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", formatTime(e.CreatedAt), e.Event, uid, ip, oneLineText(details))
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "show only the events of the user with this ID")
	cmd.Flags().Var(&since, "since", "show only the events of the last DURATION (e.g. 90m, 36h, 7d)")
	cmd.Flags().IntVar(&limit, "limit", 50, fmt.Sprintf("most events to show, 1 to %d", repositories.MaxListLimit))
	asJSON = addOutput(cmd, "the events")
	return cmd
}

// activityJSON is one event in the output of `activity --json`.
type activityJSON struct {
	ID        int64           `json:"id"`
	UserID    *models.UUID    `json:"user_id"`
	Event     string          `json:"event"`
	IPAddress string          `json:"ip_address"`
	UserAgent string          `json:"user_agent"`
	Metadata  json.RawMessage `json:"metadata"`
	CreatedAt time.Time       `json:"created_at"`
}

type activityListJSON struct {
	Events []activityJSON `json:"events"`
}

func newActivityJSON(e models.Activity) activityJSON {
	meta := json.RawMessage(e.Metadata)
	if !json.Valid(meta) {
		// Not JSON (written by hand?): keep it as a string.
		meta, _ = json.Marshal(e.Metadata)
	}
	return activityJSON{
		ID:        e.ID,
		UserID:    e.UserID,
		Event:     e.Event,
		IPAddress: e.IPAddress,
		UserAgent: e.UserAgent,
		Metadata:  meta,
		CreatedAt: e.CreatedAt.UTC(),
	}
}

// oneLineText replaces the control characters of s, so that one event
// stays on one line.
func oneLineText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
