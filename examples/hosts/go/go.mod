module cace.example/host

go 1.19
