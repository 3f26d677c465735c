package config

// Printing: a DatabaseURL holds the DSN the driver opens, password
// included; it prints and marshals with the password masked, under every
// verb, as Config does.

import (
	"encoding/json"
	"fmt"
	"strings"
)

// printableURL is DatabaseURL without its methods, the DSN's password
// masked.
type printableURL DatabaseURL

func (u DatabaseURL) printable() printableURL {
	u.DSN = redactURL(u.DSN)
	return printableURL(u)
}

// String returns the dialect and the DSN, its password masked.
func (u DatabaseURL) String() string { return "config.DatabaseURL" + fmt.Sprintf("%+v", u.printable()) }

// GoString returns u as a Go composite literal, the DSN's password masked.
func (u DatabaseURL) GoString() string {
	return "config.DatabaseURL" + strings.TrimPrefix(fmt.Sprintf("%#v", u.printable()), "config.printableURL")
}

// Format implements fmt.Formatter so that no verb reveals the password:
// %#v prints u.GoString(), %q quotes u.String(), every other verb prints
// u.String().
func (u DatabaseURL) Format(f fmt.State, verb rune) { format(f, verb, u.String(), u.GoString()) }

// MarshalJSON encodes u with the DSN's password masked.
func (u DatabaseURL) MarshalJSON() ([]byte, error) { return json.Marshal(u.printable()) }
