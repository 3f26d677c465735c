package migrations

import (
	"fmt"
	"log/slog"

	"github.com/forgeauth/authstore/internal/redact"
)

// String returns the Migrator's dialect and adopted version. Its
// connections, which hold the server's address and credentials, are left
// out: fmt would print them, password included, through the unexported
// fields under a verb such as %s.
func (m Migrator) String() string {
	return fmt.Sprintf("migrations.Migrator{Dialect:%s Adopted:%d}", m.dialect, m.Adopted)
}

// GoString is String.
func (m Migrator) GoString() string { return m.String() }

// Format implements fmt.Formatter: every verb prints m.String().
func (m Migrator) Format(f fmt.State, verb rune) { redact.Format(f, verb, m.String(), m.GoString()) }

// LogValue implements slog.LogValuer: the dialect and adopted version.
func (m Migrator) LogValue() slog.Value {
	return slog.GroupValue(slog.String("dialect", string(m.dialect)), slog.Uint64("adopted", uint64(m.Adopted)))
}
