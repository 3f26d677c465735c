package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/provider"
	"github.com/forgeauth/authstore/repositories"
)

// ExampleNew is the README's provider in a program of one's own: a Store
// with a master key and a signing key, the provider on it, and its
// discovery document.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "authstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	cfg, err := config.LoadFrom(map[string]string{
		"DATABASE_URL":             "sqlite://" + filepath.Join(dir, "authstore.db"),
		"AUTHSTORE_ENCRYPTION_KEY": "aW50ZWdyYXRpb24tbWFzdGVyLWtleS1vbmUtMzJieXQ=", // openssl rand -base64 32
	})
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.Open(ctx, cfg, authstore.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Keys.Rotate(ctx, repositories.RotateOptions{}); err != nil { // the first key signs at once
		log.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String() // https://login.example.com in production
	h, err := provider.New(ctx, store, provider.Config{Issuer: issuer})
	if err != nil {
		log.Fatal(err)
	}
	srv.Config.Handler = h // or http.ListenAndServe(addr, h)
	srv.Start()
	defer srv.Close()

	res, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var disc struct {
		Issuer  string   `json:"issuer"`
		Token   string   `json:"token_endpoint"`
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if err := json.NewDecoder(res.Body).Decode(&disc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(disc.Issuer == issuer, disc.Token == issuer+"/oauth/token", disc.Methods)
	// Output: true true [S256]
}
