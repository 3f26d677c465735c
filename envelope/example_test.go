package envelope_test

import (
	"context"
	"fmt"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/envelope"
)

// A TOTP secret sealed for its user's row in one call, and opened again.
// The master key comes from AUTHSTORE_ENCRYPTION_KEY (here a fixed example
// key; generate yours with `openssl rand -base64 32`).
func Example() {
	cfg, err := config.LoadFrom(map[string]string{
		"AUTHSTORE_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	})
	if err != nil {
		panic(err)
	}
	p, err := envelope.FromConfig(cfg)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	at := envelope.Binding{Table: "users", Column: "two_factor_secret", Row: "0f8e2c4a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"}
	stored, err := envelope.Seal(ctx, p, []byte("JBSWY3DPEHPK3PXP"), at)
	if err != nil {
		panic(err)
	}
	secret, err := envelope.Open(ctx, p, stored, at)
	fmt.Println(string(secret), err)
	id, _ := envelope.KeyID(stored)
	fmt.Println(id == p.CurrentKeyID())
	// Output:
	// JBSWY3DPEHPK3PXP <nil>
	// true
}
