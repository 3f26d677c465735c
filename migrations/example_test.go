package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/migrations"
	_ "github.com/mattn/go-sqlite3"
)

// Example applies the embedded migrations to a SQLite file, reports the
// status, and rolls one back.
func Example() {
	dir, _ := os.MkdirTemp("", "authstore-migrations")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := sql.Open("sqlite3", filepath.Join(dir, "app.db")+"?_foreign_keys=1")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	m, err := migrations.New(ctx, db, config.DialectSQLite)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	if err := m.Up(ctx); err != nil {
		log.Fatal(err)
	}
	st, _ := m.Status(ctx)
	fmt.Println("at the latest version:", st.Version == migrations.Latest(), "pending", len(st.Pending()))

	if err := m.Down(ctx, 1); err != nil {
		log.Fatal(err)
	}
	st, _ = m.Status(ctx)
	fmt.Println("one behind:", st.Version == migrations.Latest()-1, "pending", len(st.Pending()))
	// Output:
	// at the latest version: true pending 0
	// one behind: true pending 1
}
