package models

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// NormalizeEmail returns the form of an address that uniqueness and lookup
// compare (users.email_normalized): addresses that look the same have the
// same form. It trims white space, removes the characters
// IgnorableInEmail reports (they show nothing), and applies Unicode NFKC
// normalisation and full case folding, NFKC again, until the result is
// stable: fullwidth, mathematical and circled letters become plain ones,
// decomposed (NFD) accents composed, upper case lower ("ＡＤＡ@example.com",
// "𝐚𝐝𝐚@example.com", "ⓐⓓⓐ@example.com" and "ADA@example.com" are all
// "ada@example.com"). An address of printable ASCII alone is trimmed and
// lower-cased, as it was before migration 000004.
//
// It never fails: validation (which refuses an address holding an
// ignorable character rather than dropping it) is Users.Create's. The form
// is for comparison; Email keeps what the user typed, for display.
func NormalizeEmail(email string) string {
	s := strings.TrimSpace(email)
	if printableASCII(s) {
		return strings.ToLower(s)
	}
	for range 4 { // NFKC and folding settle in one or two rounds
		next := strings.TrimSpace(norm.NFKC.String(cases.Fold().String(norm.NFKC.String(strings.Map(dropIgnorable, s)))))
		if next == s {
			break
		}
		s = next
	}
	return s
}

// IgnorableInEmail reports whether r is a character no address may hold
// and NormalizeEmail removes: a control character, a format character
// (zero-width space and joiners, soft hyphen, bidi controls such as U+202E,
// the byte order mark, invisible operators), or another default-ignorable
// code point (Hangul fillers, the combining grapheme joiner, variation
// selectors). Each renders as nothing or moves the text around it, so two
// addresses differing by one look the same.
func IgnorableInEmail(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// dropIgnorable is strings.Map's form of IgnorableInEmail: -1 drops r.
func dropIgnorable(r rune) rune {
	if IgnorableInEmail(r) {
		return -1
	}
	return r
}

// printableASCII reports whether s holds only printable ASCII (space to
// tilde), which NFKC and case folding leave as lower-casing does.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
