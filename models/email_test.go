package models

import "testing"

// BenchmarkNormalizeEmail measures what normalising an address adds to a
// lookup: printable ASCII (trimmed and lower-cased, the common case) and
// an address that takes NFKC and case folding.
func BenchmarkNormalizeEmail(b *testing.B) {
	for name, email := range map[string]string{
		"ascii":   "Ada.Lovelace@Example.com",
		"unicode": "ＡＤＡ.Lovelacé@Example.com",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if NormalizeEmail(email) == "" {
					b.Fatal("empty")
				}
			}
		})
	}
}
