package repositories

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
)

// Limits on user input.
const (
	// MaxNameLength bounds a display name (user, client, personal token),
	// in characters.
	MaxNameLength = 255
	// MaxEmailLength is RFC 5321's path limit, in bytes.
	MaxEmailLength = 254
	// MaxListLimit is the most rows one List call returns.
	MaxListLimit = 1000
	// MaxMetadataLength bounds an activity row's metadata, in bytes of
	// JSON: what ActivityLog.Record accepts from a host (the library's own
	// rows hold a few ids and names).
	MaxMetadataLength = 8192
	// maxTokenLength bounds a presented token, code or secret: longer input
	// cannot be one of ours and is refused before any digest or lookup.
	maxTokenLength = 512
)

// validID is the one check every exported method applies to an id
// argument before any other work: the id must be a canonical UUID, lower-case
// 8-4-4-4-12 hex (what models.NewUUID makes and both databases read back).
// Upper-case, braced, urn:uuid: and unhyphenated forms are refused, so an id
// means the same row, or none, on every backend, and no malformed id reaches
// a PostgreSQL uuid column. The error names what, never the id.
func validID(what string, id models.UUID) error {
	if !canonicalUUID(string(id)) {
		return fmt.Errorf("%s is not a canonical uuid: %w", what, ErrInvalidInput)
	}
	return nil
}

// canonicalUUID reports whether s is a UUID in canonical lower-case
// 8-4-4-4-12 form. It looks at no more than 36 bytes of any input.
func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// validOptionalID is validID for an optional id: nil passes.
func validOptionalID(what string, id *models.UUID) error {
	if id == nil {
		return nil
	}
	return validID(what, *id)
}

// validIDOrEmpty is validID for an id that may be left empty (a session to
// keep): "" passes.
func validIDOrEmpty(what string, id models.UUID) error {
	if id == "" {
		return nil
	}
	return validID(what, id)
}

// checkText refuses a text argument that is not text: invalid UTF-8, a NUL
// byte (PostgreSQL refuses both, SQLite would store them), or longer than
// max bytes. The error names what and the limit, never the value.
func checkText(what, s string, max int) error {
	switch {
	case len(s) > max:
		return fmt.Errorf("%s is longer than %d bytes: %w", what, max, ErrInvalidInput)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8: %w", what, ErrInvalidInput)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%s contains a NUL byte: %w", what, ErrInvalidInput)
	}
	return nil
}

// checkLine is checkText for a one-line value (a name, an IP address, a
// user agent): it also refuses control characters (line breaks, tabs,
// escapes, C1 controls), which would let the value forge lines where it is
// printed.
func checkLine(what, s string, max int) error {
	if err := checkText(what, s, max); err != nil {
		return err
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("%s contains a control character: %w", what, ErrInvalidInput)
	}
	return nil
}

// checkEmailText checks that an email argument of a lookup (a login, a
// reset request) or of a registration is text of at most MaxEmailLength
// bytes once trimmed, and holds only characters an address may: letters,
// marks, digits, punctuation and symbols, none that models.IgnorableInEmail
// reports (zero-width, soft hyphen, bidi controls), no space or other
// separator, no private-use or unassigned code point. So no address that
// could never have been registered reaches a query, and no two registered
// addresses differ by a character nobody sees. The error names the first
// such character by its code point, never the address.
func checkEmailText(email string) error {
	email = strings.TrimSpace(email)
	if err := checkText("email", email, MaxEmailLength); err != nil {
		return err
	}
	for _, r := range email {
		if r >= utf8.RuneSelf && (models.IgnorableInEmail(r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)) {
			return fmt.Errorf("email contains an invisible, format, space or unassigned character (%U): %w", r, ErrInvalidInput)
		}
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("email contains a control character (%U): %w", r, ErrInvalidInput)
		}
	}
	return nil
}

// checkEmail validates an address given to Create, UpdateProfile or Import
// and returns it trimmed, as the user typed it (for display), and its
// normalised form (models.NormalizeEmail, for uniqueness and lookup). Both
// must be a single bare address (RFC 5322 addr-spec, as net/mail parses it)
// with a dot in the domain, of at most MaxEmailLength bytes.
func checkEmail(email string) (display, normalized string, err error) {
	email = strings.TrimSpace(email)
	if len(email) > MaxEmailLength {
		return "", "", fmt.Errorf("email is longer than %d bytes: %w", MaxEmailLength, ErrInvalidInput)
	}
	if err := checkEmailText(email); err != nil {
		return "", "", err
	}
	if !bareAddress(email) {
		return "", "", fmt.Errorf("email is not a valid address: %w", ErrInvalidInput)
	}
	normalized = models.NormalizeEmail(email)
	if len(normalized) > MaxEmailLength {
		return "", "", fmt.Errorf("email is longer than %d bytes once normalised: %w", MaxEmailLength, ErrInvalidInput)
	}
	if !bareAddress(normalized) {
		return "", "", fmt.Errorf("email is not a valid address once normalised (NFKC, case folded): %w", ErrInvalidInput)
	}
	return email, normalized, nil
}

// bareAddress reports whether email is one addr-spec, without a display
// name or angle brackets, whose domain holds a dot.
func bareAddress(email string) bool {
	addr, err := mail.ParseAddress(email)
	return err == nil && addr.Address == email && addr.Name == "" &&
		strings.Contains(email[strings.LastIndex(email, "@")+1:], ".")
}

// checkCallback refuses a nil callback before any work, so that a call never
// commits and then panics calling it.
func checkCallback(what string, isNil bool) error {
	if isNil {
		return fmt.Errorf("%s callback is nil: %w", what, ErrInvalidInput)
	}
	return nil
}

// clip cuts s to at most n bytes, on a character boundary, marking the cut,
// so an error quotes a bounded piece of an argument, never all of it.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// firstErr returns the first non-nil error of checks (validID results).
func firstErr(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// minStoredTime is the first instant both databases store and read back
// alike: the start of year 1 (Go's zero time). maxExpiry is the last.
var minStoredTime = time.Time{}

// checkStoredTime refuses a time given as data to store that is before
// year 1 or after year 9999 (UTC): SQLite keeps times as text, which Go
// reads back only within those years and which compares "10000-..." before
// "2026-..."; PostgreSQL refuses some of them with a raw error. The error
// names the field, not the time.
func checkStoredTime(field string, t time.Time) error {
	if t.UTC().Before(minStoredTime) || t.After(maxExpiry) {
		return fmt.Errorf("%s is before year 1 or after year 9999: %w", field, ErrInvalidInput)
	}
	return nil
}

// clampTime moves a time that bounds a query (since, before) into the
// years checkStoredTime accepts, which changes no answer: no stored time
// lies outside them. It returns UTC.
func clampTime(t time.Time) time.Time {
	t = t.UTC()
	switch {
	case t.Before(minStoredTime):
		return minStoredTime
	case t.After(maxExpiry):
		return maxExpiry
	}
	return t
}

// checkLifetime refuses a non-positive lifetime from a hand-built Config.
func checkLifetime(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s lifetime is not positive: %w", name, ErrInvalidInput)
	}
	return nil
}

// checkName trims a display name and checks that it is present, valid
// UTF-8, not too long and free of NUL and control characters. The input is
// bounded in bytes (4 per character) before it is trimmed or counted.
func checkName(what, name string) (string, error) {
	if len(name) > 4*MaxNameLength+1024 {
		return "", fmt.Errorf("%s is longer than %d characters: %w", what, MaxNameLength, ErrInvalidInput)
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fmt.Errorf("%s is empty: %w", what, ErrInvalidInput)
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", fmt.Errorf("%s is longer than %d characters: %w", what, MaxNameLength, ErrInvalidInput)
	}
	if err := checkLine(what, name, 4*MaxNameLength); err != nil {
		return "", err
	}
	return name, nil
}

// checkList validates the limit and offset of a List call.
func checkList(limit, offset int) error {
	if limit < 1 || limit > MaxListLimit {
		return fmt.Errorf("limit must be 1 to %d, got %d: %w", MaxListLimit, limit, ErrInvalidInput)
	}
	if offset < 0 {
		return fmt.Errorf("offset must not be negative, got %d: %w", offset, ErrInvalidInput)
	}
	return nil
}

// normalizeScopes validates and deduplicates scopes (protocol.NormalizeScopes).
func normalizeScopes(scopes []string) (models.Strings, error) {
	out, err := protocol.NormalizeScopes(scopes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalidScope)
	}
	return out, nil
}

// allowedScopes checks requested scopes against a client's registered ones.
// A client with no registered scopes may ask for any.
func allowedScopes(client *models.Client, scopes []string) error {
	if len(client.Scopes) == 0 {
		return nil
	}
	if s, missing := protocol.MissingScope(scopes, client.Scopes); missing {
		return fmt.Errorf("scope %q is not registered for the client: %w", s, ErrInvalidScope)
	}
	return nil
}
