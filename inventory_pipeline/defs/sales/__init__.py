"""Sales: Ozon and Wildberries sales per day and account, their analysis, and product status."""
