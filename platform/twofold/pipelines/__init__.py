"""Pipelines (funnels), their stages and the one service that moves records between them."""
