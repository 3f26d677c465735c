package provider

import (
	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/oidcstore"
)

// newStorage returns the adapter over store, sending logins to the login
// page, with key as its crypto key unless key is zero.
func newStorage(store *authstore.Store, key [32]byte) (*oidcstore.Storage, error) {
	opts := []oidcstore.Option{oidcstore.WithLoginURL(loginURL)}
	if key != ([32]byte{}) {
		opts = append(opts, oidcstore.WithCryptoKey(key))
	}
	return oidcstore.New(store, opts...)
}
