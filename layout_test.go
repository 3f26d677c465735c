package authstore_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLayout keeps each package to what its documentation says it holds:
// hooks and protocol need neither GORM nor another package of the module
// (protocol's rules need no database); the repositories leave JWT handling
// and URL policy to protocol and never branch on the dialect.
func TestLayout(t *testing.T) {
	const module = "github.com/forgeauth/authstore"
	for _, tc := range []struct {
		dir       string
		forbidden func(path string) bool
		noText    string
	}{
		{"hooks", func(p string) bool { return strings.Contains(p, "gorm") || strings.HasPrefix(p, module) }, ""},
		{"protocol", func(p string) bool { return strings.Contains(p, "gorm") || strings.HasPrefix(p, module) }, ""},
		{"repositories", func(p string) bool { return p == "github.com/golang-jwt/jwt/v5" || p == "net/url" }, "Dialector.Name()"},
	} {
		files, err := filepath.Glob(filepath.Join(tc.dir, "*.go"))
		require.NoError(t, err)
		require.NotEmpty(t, files, tc.dir)
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			require.NoError(t, err)
			if tc.noText != "" {
				require.NotContains(t, string(src), tc.noText, "%s branches on the dialect", name)
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
			require.NoError(t, err)
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				require.False(t, tc.forbidden(path), "%s imports %s", name, path)
			}
		}
	}
}
