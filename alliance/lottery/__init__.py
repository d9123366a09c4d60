"""The points lottery (积分抽奖): operators run lotteries whose draws cost points and give a
coupon, points or nothing (谢谢参与)."""
