"""The offline sandbox: a moto server plus what this pipeline needs that moto lacks."""
