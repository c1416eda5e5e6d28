Summary = dict
