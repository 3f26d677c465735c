package demo

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/forgeauth/authstore/internal/redact"
)

// reportFields is Report without its methods, the secrets masked.
type reportFields Report

func (r Report) masked() reportFields {
	if r.Secrets != nil {
		m := make(map[string]string, len(r.Secrets))
		for k, v := range r.Secrets {
			m[k] = redact.String(v)
		}
		r.Secrets = m
	}
	return reportFields(r)
}

// String returns r's fields, the generated plaintexts masked: only
// MarshalJSON, the demo's --json report, shows them.
func (r Report) String() string { return redact.Fields("demo.Report", r.masked()) }

// GoString returns r as a Go composite literal, the plaintexts masked.
func (r Report) GoString() string { return redact.GoSyntax("demo.Report", r.masked()) }

// Format implements fmt.Formatter: %#v prints r.GoString(), every other
// verb r.String().
func (r Report) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer: the dialect, the user, the clients
// and the names of the plaintexts made, not their values.
func (r Report) LogValue() slog.Value {
	keys := make([]string, 0, len(r.Secrets))
	for k := range r.Secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return slog.GroupValue(slog.String("dialect", r.Dialect), slog.String("user_id", r.UserID), slog.String("email", r.Email),
		slog.Any("client_ids", r.ClientIDs), slog.String("secrets", strings.Join(keys, ",")), slog.Int("steps", len(r.Steps)))
}
