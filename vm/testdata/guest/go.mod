module faultproof.test/guest

go 1.26
