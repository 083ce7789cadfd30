package data

import (
	"archive/zip"
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
