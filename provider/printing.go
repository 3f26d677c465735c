package provider

// Printing: a Config holds the crypto key; it prints, logs and marshals
// with the key masked, under every verb.

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/forgeauth/authstore/internal/redact"
)

// printableConfig is Config with the crypto key masked, of a type without
// methods.
type printableConfig struct {
	Issuer    string
	CryptoKey string
	Logger    bool
}

func (c Config) printable() printableConfig {
	key := ""
	if c.CryptoKey != ([32]byte{}) {
		key = redact.Mask
	}
	return printableConfig{Issuer: c.Issuer, CryptoKey: key, Logger: c.Logger != nil}
}

// String returns the configuration with the crypto key masked.
func (c Config) String() string { return redact.Fields("provider.Config", c.printable()) }

// GoString returns the configuration as a composite literal, the crypto
// key masked.
func (c Config) GoString() string { return redact.GoSyntax("provider.Config", c.printable()) }

// Format implements fmt.Formatter: no verb prints the crypto key.
func (c Config) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String(), c.GoString()) }

// LogValue implements slog.LogValuer: the issuer, and whether a crypto key
// and a logger are set.
func (c Config) LogValue() slog.Value {
	p := c.printable()
	return slog.GroupValue(slog.String("issuer", p.Issuer), slog.String("crypto_key", p.CryptoKey), slog.Bool("logger", p.Logger))
}

// MarshalJSON encodes the configuration with the crypto key masked.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.printable()) }
