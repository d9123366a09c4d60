"""Referrals: referral codes and their QR images, attribution of new customers, rewards."""
