module github.com/netdiag/netdiag

go 1.26
