"""The progress view: what each agency has sent and owes for each tracked child, and
where the partnership and the inspectors stand."""
