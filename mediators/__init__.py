"""The expert pool of mediators (调解专家超市)."""
