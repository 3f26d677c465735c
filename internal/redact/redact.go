// Package redact holds the helpers behind the String, GoString, Format and
// MarshalJSON methods that keep authstore's secrets out of every printing
// of a value: one way to print, shared by every package.
//
// A type that holds a secret prints through Format, which fmt consults for
// every verb but %T and %p: String for %v, %+v, %s, %x and every other
// verb, GoString for %#v, both with the secret replaced by Mask. Two
// printings never reach a method, because fmt answers them while it
// reports a bad verb: %p of a value that is not a pointer, and %w outside
// fmt.Errorf or of a value that is not an error. go vet's printf check
// reports both.
package redact

import (
	"fmt"
	"io"
	"strings"
)

// Mask replaces a secret in every printing.
const Mask = "[redacted]"

// String returns Mask for a secret s, or "" when s is empty, so that an
// unset secret still shows as unset.
func String(s string) string {
	if s == "" {
		return ""
	}
	return Mask
}

// Pointer returns a pointer to String(*p), or nil when p is nil.
func Pointer(p *string) *string {
	if p == nil {
		return nil
	}
	s := String(*p)
	return &s
}

// Fields returns name followed by v's fields as %+v prints a struct:
// "models.User{ID:... Name:...}". v is a struct value whose secrets are
// already masked, of a type without methods (a conversion to a local type
// declared as the original), so that printing it cannot recurse.
func Fields(name string, v any) string { return name + fmt.Sprintf("%+v", v) }

// GoSyntax returns v as %#v prints it, a Go composite literal, with the
// type's name replaced by name: "models.User{ID:\"...\", ...}". v is as
// for Fields.
func GoSyntax(name string, v any) string {
	s := fmt.Sprintf("%#v", v)
	if i := strings.IndexByte(s, '{'); i >= 0 {
		return name + s[i:]
	}
	return name + "{" + s + "}"
}

// Format writes, for verb, goSyntax when the verb is %#v, s quoted when it
// is %q, and s itself for any other verb (%v, %+v, %s, %x, %d, ...), with
// the flags, width and precision given. It is the body of the Format
// method of every type that holds a secret.
func Format(f fmt.State, verb rune, s, goSyntax string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, goSyntax)
	case verb == 'q':
		fmt.Fprintf(f, fmt.FormatString(f, 'q'), s)
	default:
		fmt.Fprintf(f, fmt.FormatString(f, 's'), s)
	}
}
