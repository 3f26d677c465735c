package config_test

import (
	"fmt"

	"github.com/forgeauth/authstore/config"
)

func ExampleLoadFrom() {
	cfg, err := config.LoadFrom(map[string]string{
		"DATABASE_URL":                "postgres://app:s3cret@db:5432/authstore",
		"OAUTH_ACCESS_TOKEN_LIFETIME": "900",
		"JWT_SECRET":                  "an example secret of 32 bytes or more",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	db, _ := cfg.Database()
	fmt.Println(db.Dialect, cfg.AccessTokenLifetime, cfg.EnablePKCE)
	fmt.Println(cfg.JWTSecret)
	// Output:
	// postgres 15m0s true
	// [redacted]
}

func ExampleLoadFrom_invalid() {
	_, err := config.LoadFrom(map[string]string{
		"DATABASE_URL":      "sqlserver://app:s3cret@db/authstore",
		"OAUTH_ENABLE_PKCE": "maybe",
	})
	fmt.Println(err)
	// Output:
	// DATABASE_URL: want postgres://, postgresql://, mysql://, mariadb:// or sqlite:// URL, got "sqlserver://app:xxxxx@db/authstore"
	// OAUTH_ENABLE_PKCE: want true or false, got "maybe"
}
