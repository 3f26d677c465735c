package migrations

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/config"
	"github.com/stretchr/testify/require"
)

// TestViewsMatchTheFiles proves that every view AutoMigrate creates is the
// statement an up migration of every dialect holds, byte for byte, and that
// the files create no other view.
func TestViewsMatchTheFiles(t *testing.T) {
	for _, d := range []config.Dialect{config.DialectPostgres, config.DialectSQLite, config.DialectMySQL} {
		fsys, err := FS(d)
		require.NoError(t, err)
		var all strings.Builder
		vs, err := Versions(d)
		require.NoError(t, err)
		for _, v := range vs {
			b, err := fs.ReadFile(fsys, v.upFile())
			require.NoError(t, err)
			all.Write(b)
		}
		text := all.String()
		for _, v := range Views() {
			require.Equal(t, 1, strings.Count(text, v.For(d)+";"), "%s: the up migrations do not hold view %s exactly once", d, v.Name)
		}
		for _, v := range Views() {
			last := strings.LastIndex(text, "CREATE VIEW "+v.Name+" AS")
			require.Equal(t, strings.Index(text, v.For(d)+";"), last, "%s: view %s is created again after the statement Views holds", d, v.Name)
		}
		// 000006 creates oauth_expired_tokens again, with the authorization
		// requests, and 000008 expired_auth_records, with the two-factor
		// challenges.
		require.Equal(t, len(Views())+2, strings.Count(text, "CREATE VIEW"), "%s: a view the up migrations create is missing from Views", d)
	}
}
