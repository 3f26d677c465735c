package repositories

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/forgeauth/authstore/models"
)

// canonical is the one id form validID accepts.
var canonical = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// FuzzValidateInput drives the checks every exported method applies at its
// top (issue 11, classes 6, 8 and 10): none panics; an accepted id is
// canonical (and models.UUID.Valid agrees); accepted text is valid UTF-8,
// NUL-free and within its bound (one-line text and names free of control
// characters too); every refusal is ErrInvalidInput in a short message that
// does not quote the input; metadata of any string encodes as JSON.
func FuzzValidateInput(f *testing.F) {
	id := "0f8fad5b-d9cb-469f-a165-70867728950e"
	for _, s := range []string{
		id, strings.ToUpper(id), "{" + id + "}", "urn:uuid:" + id, strings.ReplaceAll(id, "-", ""),
		" " + id, id[:35] + "\x00", id[:35] + "\xff", id[:35] + "G", "not-a-uuid", "",
		"Ada Lovelace", "  Ada  ", "a\x00b", "a\xffb", "a\r\nb", "a\tb", "\u0085", "\x1b[2J", "ü", strings.Repeat("ü", 300),
		"ada@example.com", "ada\x00@example.com", strings.Repeat("a", 255) + "@example.com",
		"203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64)", strings.Repeat("u", 600), "\xed\xa0\x80",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		refused := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("%s(%q) = %v; want ErrInvalidInput", what, s, err)
			}
			if msg := err.Error(); len(msg) > 120 || (len(s) > 48 && strings.Contains(msg, s)) {
				t.Fatalf("%s(%q): message %q quotes the input or is too long", what, s, msg)
			}
		}

		// Ids.
		err := validID("id", models.UUID(s))
		if (err == nil) != canonical.MatchString(s) {
			t.Fatalf("validID(%q) = %v; canonical: %v", s, err, canonical.MatchString(s))
		}
		if (err == nil) != models.UUID(s).Valid() {
			t.Fatalf("validID(%q) = %v but models.UUID.Valid = %v", s, err, models.UUID(s).Valid())
		}
		if err != nil {
			refused("validID", err)
		} else if p, perr := models.ParseUUID(s); perr != nil || string(p) != s {
			t.Fatalf("validID accepted %q, which parses to %q, %v", s, p, perr)
		}
		if err := validIDOrEmpty("id", models.UUID(s)); (err == nil) != (s == "" || canonical.MatchString(s)) {
			t.Fatalf("validIDOrEmpty(%q) = %v", s, err)
		}

		// Text.
		for _, max := range []int{models.MaxIPLength, MaxEmailLength, models.MaxUserAgentLength} {
			if err := checkText("text", s, max); err != nil {
				refused("checkText", err)
			} else if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 || len(s) > max {
				t.Fatalf("checkText(%q, %d) accepted it", s, max)
			}
			if err := checkLine("line", s, max); err != nil {
				refused("checkLine", err)
			} else if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 || len(s) > max {
				t.Fatalf("checkLine(%q, %d) accepted it", s, max)
			}
		}
		if err := checkEmailText(s); err != nil {
			refused("checkEmailText", err)
		} else if e := strings.TrimSpace(s); !utf8.ValidString(e) || strings.IndexByte(e, 0) >= 0 || len(e) > MaxEmailLength {
			t.Fatalf("checkEmailText(%q) accepted it", s)
		}
		if name, err := checkName("name", s); err != nil {
			refused("checkName", err)
		} else if name == "" || name != strings.TrimSpace(name) || !utf8.ValidString(name) ||
			strings.IndexFunc(name, unicode.IsControl) >= 0 || utf8.RuneCountInString(name) > MaxNameLength {
			t.Fatalf("checkName(%q) = %q, accepted", s, name)
		}

		// Echoes and metadata.
		if c := clip(s, 64); len(c) > 67 || (utf8.ValidString(s) && !utf8.ValidString(c)) {
			t.Fatalf("clip(%q) = %q", s, c)
		}
		meta, err := encodeMetadata(map[string]any{"v": s, s: 1})
		if encoded, _ := json.Marshal(map[string]any{"v": s, s: 1}); len(encoded) > MaxMetadataLength {
			if err == nil {
				t.Fatalf("encodeMetadata(%q) accepted %d bytes, over MaxMetadataLength", s, len(encoded))
			}
			refused("encodeMetadata", err)
		} else if err != nil || !json.Valid([]byte(meta)) || !utf8.ValidString(meta) {
			t.Fatalf("encodeMetadata(%q) = %q, %v", s, meta, err)
		}
	})
}

// TestCheckCallback: a nil callback is ErrInvalidInput, a set one passes.
func TestCheckCallback(t *testing.T) {
	if err := checkCallback("deliver", true); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("checkCallback(nil) = %v; want ErrInvalidInput", err)
	}
	if err := checkCallback("deliver", false); err != nil {
		t.Fatalf("checkCallback(set) = %v; want nil", err)
	}
}

// FuzzNormaliseEmail drives the address checks and models.NormalizeEmail
// (issue 11, class 7): neither panics; NormalizeEmail is idempotent; an
// address checkEmail accepts has the normalised form NormalizeEmail gives,
// and that form passes checkEmail itself, unchanged, so a stored form is
// always one a lookup reaches; every refusal is ErrInvalidInput in a short
// message that does not quote the input.
func FuzzNormaliseEmail(f *testing.F) {
	for _, s := range []string{
		"ada@example.com", "ADA@Example.COM", "ＡＤＡ@ｅｘａｍｐｌｅ.ｃｏｍ", "𝐚𝐝𝐚@example.com", "ⓐⓓⓐ@example.com",
		"zo\u00eb@example.com", "zoe\u0308@example.com", "ada\u200b@example.com", "a\u00adda@example.com",
		"ada\u202e@example.com", "\ufeffada@example.com", "ada\u3164@example.com", "ada\ufe0f@example.com",
		"straße@example.de", "ǅ@example.com", "\u0345@example.com", "ﬃ@example.com", "\u2024ada@example.com",
		strings.Repeat("\u337f", 70) + "@example.com", "\ufdfa@example.com", "ada＠example.com", "  ada@example.com\t",
		"a\xffb@example.com", "a\x00b@example.com", "", "@", "İ@example.com", "\u1e9e@example.com", "ΣΑΣ@example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := models.NormalizeEmail(s)
		if again := models.NormalizeEmail(n); again != n {
			t.Fatalf("NormalizeEmail(%q) = %q, but NormalizeEmail(%q) = %q", s, n, n, again)
		}
		display, normal, err := checkEmail(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("checkEmail(%q) = %v; want ErrInvalidInput", s, err)
			}
			if msg := err.Error(); len(msg) > 120 || (len(s) > 8 && strings.Contains(msg, s)) {
				t.Fatalf("checkEmail(%q): message %q quotes the input or is too long", s, msg)
			}
			return
		}
		if display != strings.TrimSpace(s) || normal != n {
			t.Fatalf("checkEmail(%q) = %q, %q; want %q, %q", s, display, normal, strings.TrimSpace(s), n)
		}
		if d2, n2, err := checkEmail(normal); err != nil || d2 != normal || n2 != normal {
			t.Fatalf("checkEmail(%q) accepted it as %q, but checkEmail(%q) = %q, %q, %v", s, normal, normal, d2, n2, err)
		}
		if err := checkEmailText(s); err != nil {
			t.Fatalf("checkEmail(%q) accepted what a lookup refuses: %v", s, err)
		}
	})
}
