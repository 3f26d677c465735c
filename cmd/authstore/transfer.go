package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
)

// The JSON lines of `authstore export` and `authstore import`: one object
// per line, with a "kind". Their field names are stable.
const (
	kindUser   = "user"
	kindClient = "client"
)

// transferUser is one user line.
type transferUser struct {
	Kind            string      `json:"kind"`
	ID              models.UUID `json:"id,omitempty"`
	Name            string      `json:"name"`
	Email           string      `json:"email"`
	Password        string      `json:"password"`
	EmailVerifiedAt *time.Time  `json:"email_verified_at"`
	CreatedAt       *time.Time  `json:"created_at,omitempty"`
	UpdatedAt       *time.Time  `json:"updated_at,omitempty"`
}

// transferClient is one client line.
type transferClient struct {
	Kind                 string       `json:"kind"`
	ID                   models.UUID  `json:"id"`
	UserID               *models.UUID `json:"user_id"`
	Name                 string       `json:"name"`
	Secret               *string      `json:"secret"`
	RedirectURIs         []string     `json:"redirect_uris"`
	GrantTypes           []string     `json:"grant_types"`
	Scopes               []string     `json:"scopes"`
	Confidential         bool         `json:"confidential"`
	PersonalAccessClient bool         `json:"personal_access_client"`
	Revoked              bool         `json:"revoked"`
	// What an OpenID provider reads of the client; absent means the
	// default.
	ResponseTypes           []string   `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string     `json:"token_endpoint_auth_method,omitempty"`
	AccessTokenType         string     `json:"access_token_type,omitempty"`
	PostLogoutRedirectURIs  []string   `json:"post_logout_redirect_uris,omitempty"`
	Audiences               []string   `json:"audiences,omitempty"`
	IDTokenLifetimeSeconds  int64      `json:"id_token_lifetime,omitempty"`
	CreatedAt               *time.Time `json:"created_at,omitempty"`
	UpdatedAt               *time.Time `json:"updated_at,omitempty"`
}

// transferFormat documents the lines in the help of export and import.
const transferFormat = `Each line is one JSON object with a "kind":
  {"kind": "user", "id": "UUID", "name": "...", "email": "...",
   "password": "$argon2id$v=19$m=19456,t=2,p=1$...",
   "email_verified_at": "2024-05-01T10:00:00Z" or null,
   "created_at": "RFC 3339 time", "updated_at": "RFC 3339 time"}
  {"kind": "client", "id": "UUID", "user_id": "UUID" or null, "name": "...",
   "secret": "$argon2id$..." or null, "redirect_uris": [...],
   "grant_types": [...], "scopes": [...], "confidential": true,
   "personal_access_client": false, "revoked": false,
   "created_at": "RFC 3339 time", "updated_at": "RFC 3339 time"}
"password" and "secret" are the stored hashes: an Argon2id PHC string, or a
bcrypt hash ($2a$, $2b$, $2y$, cost 4 to 16) as Laravel, Django's bcrypt
hasher, Devise and others store it. Plaintext is never written nor accepted.`

// exportCommand is `authstore export`.
func (a *app) exportCommand() *cobra.Command {
	var users, clients bool
	cmd := &cobra.Command{
		Use:   "export [--users] [--clients]",
		Short: "Write users and clients, with their password and secret hashes, as JSON lines",
		Long: `export writes every user and every client of the database to standard
output, one JSON object per line, users first (so that an import creates a
client's owner before the client), each table in id order. authstore import
reads them back into another database: the rows come out equal, and users
log in with their passwords and clients authenticate with their secrets.
With --users or --clients it writes only those; with neither, both.

` + transferFormat + `

The output holds password and secret hashes: keep it as you keep a backup.
Sessions, tokens, codes, personal tokens, two-factor settings, lockout
counts and the activity log are not exported.

export only reads (a SQLite file is opened read-only); the counts go to
standard error when it ends.`,
		Example: `  authstore export > authstore.jsonl
  authstore export --users | gzip > users.jsonl.gz

  # Move everything to PostgreSQL
  authstore export | DATABASE_URL='postgres://app@db:5432/auth' authstore import -`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !users && !clients {
				users, clients = true, true
			}
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				w := bufio.NewWriter(a.stdout)
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				var nUsers, nClients int
				if users {
					err := s.Users.Export(ctx, func(u repositories.ImportUser) error {
						nUsers++
						return enc.Encode(newTransferUser(u))
					})
					if err != nil {
						return err
					}
				}
				if clients {
					err := s.Clients.Export(ctx, func(c repositories.ImportClient) error {
						nClients++
						return enc.Encode(newTransferClient(c))
					})
					if err != nil {
						return err
					}
				}
				if err := w.Flush(); err != nil {
					return fmt.Errorf("export: write: %w", err)
				}
				fmt.Fprintf(a.stderr, "exported %d users and %d clients\n", nUsers, nClients)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&users, "users", false, "export users")
	cmd.Flags().BoolVar(&clients, "clients", false, "export clients")
	return cmd
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.UTC()
	return &v
}

func newTransferUser(u repositories.ImportUser) transferUser {
	var verified *time.Time
	if u.EmailVerifiedAt != nil {
		verified = timePtr(*u.EmailVerifiedAt)
	}
	return transferUser{
		Kind: kindUser, ID: u.ID, Name: u.Name, Email: u.Email, Password: u.PasswordHash,
		EmailVerifiedAt: verified, CreatedAt: timePtr(u.CreatedAt), UpdatedAt: timePtr(u.UpdatedAt),
	}
}

func newTransferClient(c repositories.ImportClient) transferClient {
	orEmpty := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return transferClient{
		Kind: kindClient, ID: c.ID, UserID: c.UserID, Name: c.Name, Secret: c.SecretHash,
		RedirectURIs: orEmpty(c.RedirectURIs), GrantTypes: orEmpty(c.GrantTypes), Scopes: orEmpty(c.Scopes),
		Confidential: c.Confidential, PersonalAccessClient: c.PersonalAccessClient, Revoked: c.Revoked,
		ResponseTypes: c.ResponseTypes, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, AccessTokenType: c.AccessTokenType,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, Audiences: c.Audiences, IDTokenLifetimeSeconds: int64(c.IDTokenLifetime / time.Second),
		CreatedAt: timePtr(c.CreatedAt), UpdatedAt: timePtr(c.UpdatedAt),
	}
}

func (u transferUser) row() repositories.ImportUser {
	out := repositories.ImportUser{ID: u.ID, Name: u.Name, Email: u.Email, PasswordHash: u.Password, EmailVerifiedAt: u.EmailVerifiedAt}
	if u.CreatedAt != nil {
		out.CreatedAt = *u.CreatedAt
	}
	if u.UpdatedAt != nil {
		out.UpdatedAt = *u.UpdatedAt
	}
	return out
}

func (c transferClient) row() repositories.ImportClient {
	out := repositories.ImportClient{
		ID: c.ID, UserID: c.UserID, Name: c.Name, SecretHash: c.Secret,
		RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes, Scopes: c.Scopes,
		Confidential: c.Confidential, PersonalAccessClient: c.PersonalAccessClient, Revoked: c.Revoked,
		ProviderMetadata: repositories.ProviderMetadata{ResponseTypes: c.ResponseTypes, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
			AccessTokenType: c.AccessTokenType, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, Audiences: c.Audiences,
			IDTokenLifetime: time.Duration(c.IDTokenLifetimeSeconds) * time.Second},
	}
	if c.CreatedAt != nil {
		out.CreatedAt = *c.CreatedAt
	}
	if c.UpdatedAt != nil {
		out.UpdatedAt = *c.UpdatedAt
	}
	return out
}

// maxLineLength bounds one input line.
const maxLineLength = 1 << 20

// maxBadLines is how many bad lines import lists before it gives up.
const maxBadLines = 20

// transferInput is what import read: the rows of each kind and the line
// each came from.
type transferInput struct {
	users       []repositories.ImportUser
	userLines   []int
	clients     []repositories.ImportClient
	clientLines []int
}

// readTransfer reads JSON lines from r, validating each. If any line is
// bad it returns an error naming the first and how many, after listing
// them on stderr (up to maxBadLines) when there are several.
func (a *app) readTransfer(r io.Reader, name string) (*transferInput, error) {
	in := &transferInput{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLineLength)
	var msgs []string
	bad := 0
	report := func(line int, err error) {
		bad++
		if len(msgs) < maxBadLines {
			msgs = append(msgs, fmt.Sprintf("line %d: %v", line, err))
		}
	}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			report(line, fmt.Errorf("not a JSON object: %v", clip(err.Error(), 80)))
			continue
		}
		switch head.Kind {
		case kindUser:
			var u transferUser
			if err := decodeLine(b, &u); err != nil {
				report(line, err)
				continue
			}
			row := u.row()
			if err := row.Validate(); err != nil {
				report(line, lineError(err))
				continue
			}
			in.users, in.userLines = append(in.users, row), append(in.userLines, line)
		case kindClient:
			var c transferClient
			if err := decodeLine(b, &c); err != nil {
				report(line, err)
				continue
			}
			row := c.row()
			if err := row.Validate(); err != nil {
				report(line, lineError(err))
				continue
			}
			in.clients, in.clientLines = append(in.clients, row), append(in.clientLines, line)
		default:
			report(line, fmt.Errorf(`"kind" is %q; want "user" or "client"`, clip(head.Kind, 40)))
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("import: %s: line %d is longer than %d bytes", name, line+1, maxLineLength)
		}
		return nil, fmt.Errorf("import: read %s: %w", name, err)
	}
	if bad > 1 {
		// The error names the first; the list shows them all (up to
		// maxBadLines).
		for _, m := range msgs {
			fmt.Fprintln(a.stderr, m)
		}
	}
	if bad > 0 {
		return nil, fmt.Errorf("import: %d bad line(s) in %s, first %s; nothing was imported: fix them and run again", bad, name, msgs[0])
	}
	if len(in.users)+len(in.clients) == 0 {
		return nil, fmt.Errorf("import: %s holds no rows", name)
	}
	return in, nil
}

// decodeLine decodes one line into v, refusing fields v lacks (a typo
// such as "pasword" must not import a user without its password).
func decodeLine(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%v", clip(err.Error(), 120))
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// lineError drops the sentinel's text from a validation error.
func lineError(err error) error {
	msg := err.Error()
	if suffix := ": " + repositories.ErrInvalidInput.Error(); len(msg) > len(suffix) && msg[len(msg)-len(suffix):] == suffix {
		msg = msg[:len(msg)-len(suffix)]
	}
	return errors.New(msg)
}

// importCommand is `authstore import`.
func (a *app) importCommand() *cobra.Command {
	var dryRun bool
	var out *output
	cmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Create users and clients from JSON lines (authstore export, or another system's users)",
		Long: `import reads JSON lines from FILE, or from standard input with -, and creates
the users and clients they describe, users first, in batches of 500 rows
per transaction, with progress on standard error and a summary on standard
output. Each imported row writes a user.imported or client.imported row to
the activity log.

` + transferFormat + `

Users from another system need no id: {"kind": "user", "name": "...",
"email": "...", "password": "$2y$10$..."}. A user given without an id gets
a new one and is matched by email (in its NFKC case-folded form) on a second run. A
client needs its id: it is the client_id its applications use.

Hashes are stored as given, after a check of their format: import runs no
password hashing, so ten thousand users take seconds. A user with a bcrypt
hash logs in with their old password, and the hash is upgraded to Argon2id
at that first successful login.

Bad lines: every line is checked before anything is written. A line that
is not JSON, has an unknown field or kind, or holds an invalid row (a
plaintext password, an unknown hash format, a malformed email or id, ...)
is reported on standard error with its line number, and the import stops
with nothing written. Fix the lines and run it again.

Idempotent: a row whose id, or for a user without an id whose email, is
already stored is never changed. It is counted unchanged when the stored
row holds the same values, and skipped, with the fields that differ, when
it does not (a user who changed their password since, for example). A
client whose owner does not exist is skipped too. A second run of the same
import therefore changes nothing. Skipped rows are listed with their line
and reason; they do not make import fail.

With --dry-run it reads and checks everything and counts what would be
created, unchanged and skipped, and writes nothing.

With -o json the summary is one JSON object:
  {"dry_run": false,
   "users": {"created": 2, "unchanged": 0, "skipped": 1},
   "clients": {"created": 1, "unchanged": 0, "skipped": 0},
   "skipped": [{"line": 3, "kind": "user", "id": "...", "reason": "..."}]}`,
		Example: `  # From another authstore
  authstore --database-url sqlite://./old.db export > authstore.jsonl
  authstore import --dry-run authstore.jsonl
  authstore import authstore.jsonl

  # Laravel's users table (bcrypt hashes), through jq
  mysql --batch --skip-column-names -e 'SELECT name, email, password FROM users' app |
    jq -cR 'split("\t") | {kind: "user", name: .[0], email: .[1], password: .[2]}' |
    authstore import -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("import takes one argument, the file to read (- for standard input), got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			var r io.Reader
			if name == "-" {
				stdin := cmd.InOrStdin()
				if isTerminal(stdin) {
					return usagef("import -: standard input is a terminal; pipe the JSON lines in, or name the file")
				}
				r, name = stdin, "standard input"
			} else {
				f, err := os.Open(name)
				if err != nil {
					return fmt.Errorf("import: %w", err)
				}
				defer f.Close()
				r = f
			}
			in, err := a.readTransfer(r, name)
			if err != nil {
				return err
			}
			// A dry run only reads: a SQLite file is opened read-only.
			var opts []authstore.Option
			if dryRun {
				opts = append(opts, authstore.WithReadOnly())
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				progress := a.importProgress()
				ures, err := s.Users.Import(ctx, in.users, repositories.ImportOptions{DryRun: dryRun, Progress: progress("users")})
				if err != nil {
					return err
				}
				cres, err := s.Clients.Import(ctx, in.clients, repositories.ImportOptions{
					DryRun: dryRun, Progress: progress("clients"), PendingUsers: ures.CreatedIDs(),
				})
				if err != nil {
					return err
				}
				return a.printImport(out, dryRun, in, ures, cres)
			}, opts...)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and count what would change; write nothing")
	out = addOutput(cmd, "the summary")
	return cmd
}

// importProgress returns the Progress callback of one kind: on a terminal
// one line rewritten in place, otherwise a line per batch when there is
// more than one.
func (a *app) importProgress() func(kind string) func(done, total int) {
	tty := isTerminal(a.stderr)
	return func(kind string) func(done, total int) {
		return func(done, total int) {
			switch {
			case tty && done < total:
				fmt.Fprintf(a.stderr, "\r%s: %d/%d", kind, done, total)
			case tty:
				fmt.Fprintf(a.stderr, "\r%s: %d/%d\n", kind, done, total)
			case total > repositories.DefaultImportBatchSize:
				fmt.Fprintf(a.stderr, "%s: %d/%d\n", kind, done, total)
			}
		}
	}
}

// importCountsJSON counts one kind's outcomes.
type importCountsJSON struct {
	Created   int `json:"created"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
}

// importSkipJSON is one skipped row.
type importSkipJSON struct {
	Line   int         `json:"line"`
	Kind   string      `json:"kind"`
	ID     models.UUID `json:"id"`
	Reason string      `json:"reason"`
}

// importJSON is the output of `import -o json`.
type importJSON struct {
	DryRun  bool             `json:"dry_run"`
	Users   importCountsJSON `json:"users"`
	Clients importCountsJSON `json:"clients"`
	Skipped []importSkipJSON `json:"skipped"`
}

func (a *app) printImport(out *output, dryRun bool, in *transferInput, ures, cres repositories.ImportResult) error {
	res := importJSON{
		DryRun:  dryRun,
		Users:   importCountsJSON{ures.Created, ures.Unchanged, ures.Skipped},
		Clients: importCountsJSON{cres.Created, cres.Unchanged, cres.Skipped},
		Skipped: []importSkipJSON{},
	}
	for _, row := range ures.Rows {
		if row.Outcome == repositories.ImportSkipped {
			res.Skipped = append(res.Skipped, importSkipJSON{in.userLines[row.Index], kindUser, row.ID, row.Reason})
		}
	}
	for _, row := range cres.Rows {
		if row.Outcome == repositories.ImportSkipped {
			res.Skipped = append(res.Skipped, importSkipJSON{in.clientLines[row.Index], kindClient, row.ID, row.Reason})
		}
	}
	if out.JSON() {
		return printJSON(a.stdout, res)
	}
	if dryRun {
		fmt.Fprintln(a.stderr, "dry run: nothing was written")
	}
	created := "CREATED"
	if dryRun {
		created = "WOULD CREATE"
	}
	row := func(kind string, c importCountsJSON) []string {
		return []string{kind, fmt.Sprint(c.Created), fmt.Sprint(c.Unchanged), fmt.Sprint(c.Skipped)}
	}
	if err := printTable(a.stdout, []string{"KIND", created, "UNCHANGED", "SKIPPED"},
		[][]string{row("users", res.Users), row("clients", res.Clients)}); err != nil {
		return err
	}
	if len(res.Skipped) == 0 {
		return nil
	}
	fmt.Fprintln(a.stdout)
	rows := make([][]string, 0, len(res.Skipped))
	for _, s := range res.Skipped {
		rows = append(rows, []string{fmt.Sprint(s.Line), s.Kind, string(s.ID), s.Reason})
	}
	return printTable(a.stdout, []string{"LINE", "KIND", "ID", "SKIPPED BECAUSE"}, rows)
}
