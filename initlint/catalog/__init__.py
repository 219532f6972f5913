"""Framework facts as data, one module per framework, plus the neutral activation facts."""
