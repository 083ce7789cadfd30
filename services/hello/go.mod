module github.com/saas-platform/saas-platform/services/hello

go 1.24
