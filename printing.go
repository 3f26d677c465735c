package authstore

// Printing: a Store holds its configuration (the JWT secret, the
// DATABASE_URL and its password) in unexported fields, which fmt would walk
// without asking the configuration to redact itself. A Store prints as its
// dialect alone, under every verb and in slog; Config returns the settings,
// which print redacted themselves.

import (
	"fmt"
	"log/slog"

	"github.com/forgeauth/authstore/internal/redact"
)

// dialect returns the Store's dialect name, or "" for a Store not built by
// Open or New.
func (s Store) dialect() string {
	if s.db == nil || s.db.Dialector == nil {
		return ""
	}
	return s.db.Dialector.Name()
}

// String returns the Store's dialect; nothing of its configuration.
func (s Store) String() string {
	return fmt.Sprintf("authstore.Store{Dialect:%s ReadOnly:%t}", s.dialect(), s.readOnly)
}

// GoString is String.
func (s Store) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints s.String(), so that
// no verb reaches the configuration's secrets.
func (s Store) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.GoString()) }

// LogValue implements slog.LogValuer: the Store's dialect.
func (s Store) LogValue() slog.Value {
	return slog.GroupValue(slog.String("dialect", s.dialect()), slog.Bool("read_only", s.readOnly))
}
