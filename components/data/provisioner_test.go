package data

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheProvisionerPackageHoldsAnExecutableBootstrapAndIsReproducible(t *testing.T) {
	path, err := ProvisionerPackage()
	require.NoError(t, err)
	r, err := zip.OpenReader(path)
	require.NoError(t, err)
	defer r.Close()
	require.Len(t, r.File, 1)
	assert.Equal(t, "bootstrap", r.File[0].Name)
	assert.Equal(t, os.FileMode(0o755), r.File[0].Mode().Perm(), "the provided runtime executes bootstrap")

	// The same binary zipped again gives the same bytes: no spurious updates.
	dir := t.TempDir()
	binary := filepath.Join(dir, "bootstrap")
	rc, err := r.File[0].Open()
	require.NoError(t, err)
	data := make([]byte, r.File[0].UncompressedSize64)
	_, err = io.ReadFull(rc, data)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(binary, data, 0o755))
	again := filepath.Join(dir, "again.zip")
	require.NoError(t, zipExecutable(again, binary, "bootstrap"))
	first, _ := os.ReadFile(path)
	second, _ := os.ReadFile(again)
	assert.Equal(t, first, second)
}

func TestAPackageIsBuiltOnceThenReusedFromTheCacheSayingSo(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	var first, second bytes.Buffer
	cache := t.TempDir()
	built, err := ProvisionerBuild{ModuleDir: root, CacheDir: cache, Progress: &first}.Package()
	require.NoError(t, err)
	assert.Contains(t, first.String(), "building the tenant provisioner", "a first build says what it builds")
	assert.Contains(t, first.String(), "pool tenants", "and why")
	assert.Equal(t, cache, filepath.Dir(built), "and keeps it")

	reused, err := ProvisionerBuild{ModuleDir: root, CacheDir: cache, Progress: &second}.Package()
	require.NoError(t, err)
	assert.Equal(t, built, reused)
	assert.Contains(t, second.String(), "reusing the tenant provisioner")
	assert.NotContains(t, second.String(), "building")
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "one package, no partial files left")
}

func TestWithoutGoTheBuildFailsWithOneSentence(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := ProvisionerBuild{CacheDir: t.TempDir()}.Package()
	require.ErrorIs(t, err, ErrNoGoToolchain)
	assert.NotContains(t, err.Error(), "\n")
}

func TestAProjectDirectoryWithoutGoModIsRefusedByName(t *testing.T) {
	dir := t.TempDir()
	_, err := ProvisionerBuild{ModuleDir: dir, CacheDir: t.TempDir()}.Package()
	require.Error(t, err)
	assert.Contains(t, err.Error(), dir)
	assert.Contains(t, err.Error(), "--project")
}

// The cache key follows the function's source: a change to a package it
// imports from the module builds again; a change elsewhere does not.
func TestTheCacheKeyFollowsTheFunctionsSourceOnly(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte(content), 0o644))
	}
	write("go.mod", "module example.com/m\n\ngo 1.24\n")
	write("cmd/tenantdb/main.go", "package main\n\nimport _ \"example.com/m/internal/sql\"\n\nfunc main() {}\n")
	write("internal/sql/sql.go", "package sql\n\nconst Q = 1\n")
	write("internal/other/other.go", "package other\n")
	key := func() string {
		k, err := provisionerSourceKey(root, "go1.24.0")
		require.NoError(t, err)
		return k
	}
	base := key()
	write("internal/other/other.go", "package other\n\nconst X = 2\n")
	write("internal/sql/sql_test.go", "package sql\n")
	assert.Equal(t, base, key(), "files the function does not build from")
	write("internal/sql/sql.go", "package sql\n\nconst Q = 2\n")
	changed := key()
	assert.NotEqual(t, base, changed, "an imported package of the module")
	write("go.sum", "example.com/dep v1.0.0 h1:x\n")
	assert.NotEqual(t, changed, key(), "a dependency's pin")
	k, err := provisionerSourceKey(root, "go1.25.0")
	require.NoError(t, err)
	assert.NotEqual(t, key(), k, "another toolchain")
}
