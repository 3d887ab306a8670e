module faultproof.test/onchainguest

go 1.26.0
