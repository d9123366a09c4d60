"""Every table of the domain, in one list: migrations are generated and checked against it."""
from __future__ import annotations

from alliance.analytics.models import MerchantDailySales, MerchantDailyTraffic
from alliance.accounts.models import (AccountMerge, LoginCode, Operator, OperatorAuditLog,
                                      RefreshFamily, RefreshToken, User, WechatIdentity)
from alliance.backups.models import Backup
from alliance.campaigns.models import (Campaign, CampaignGroup, CampaignGroupMember,
                                       CampaignItem, CampaignParticipant, CampaignQuota,
                                       CampaignUse)
from alliance.catalog.models import CatalogItem
from alliance.commissions.models import CommissionEntry
from alliance.cooperation.models import Cooperation, CooperationEvent
from alliance.coupons.models import Coupon, CouponDistribution, CouponTemplate
from alliance.infra.models import CacheInvalidation, IdempotencyRecord, KeyValue, RateCounter
from alliance.jobs.models import JobLease, JobRun
from alliance.lottery.models import Lottery, LotteryDraw, LotteryEntrant, LotteryPrize
from alliance.media.models import Upload
from alliance.members.member_code import UsedMemberCode
from alliance.members.models import (MerchantLevelRule, MerchantMember, MerchantMemberDay,
                                     PointsAward)
from alliance.merchants.models import (Merchant, MerchantStatusChange, Shop, StaffInvite,
                                       StaffMembership)
from alliance.merchants import user_data as _merchant_user_data  # noqa: F401  (merge handlers)
from alliance.notifications.models import OutboxMessage
from alliance.officialaccount.models import OaAutoReply, OaFollower, OaInboundMessage
from alliance.payments.models import PaymentNotification
from alliance.platform.models import PlatformSettings, PolicyVersion
from alliance.orders import accounts as _order_user_data  # noqa: F401  (merge handlers)
from alliance.orders.aftersale_models import AfterSale, Complaint, Review
from alliance.orders.models import (CartItem, Order, OrderDiscount, OrderLine, PaymentAttempt,
                                    Refund, ServiceCode)
from alliance.points.models import PointsAccount, PointsAllocation, PointsEntry
from alliance.pushes.models import (MerchantPush, MerchantPushQuota, PlatformPush,
                                    PlatformPushQuota, PushOptOut)
from alliance.redemptions.models import Redemption
from alliance.referrals.models import QrImage, ReferralAttribution, ReferralCode, ReferralReward
from alliance.settlement.models import SettlementItem, SettlementLine, SettlementStatement

ALL_MODELS = [
    User, WechatIdentity, RefreshFamily, RefreshToken, Operator, OperatorAuditLog, LoginCode,
    AccountMerge,
    IdempotencyRecord, RateCounter, KeyValue, CacheInvalidation,
    OutboxMessage,
    PointsAccount, PointsEntry, PointsAllocation, UsedMemberCode,
    JobLease, JobRun,
    ReferralCode, ReferralAttribution, ReferralReward, QrImage,
    OaFollower, OaInboundMessage, OaAutoReply,
    PaymentNotification,
    Upload, Merchant, MerchantStatusChange, Shop, StaffMembership, StaffInvite, CatalogItem,
    Order, OrderLine, OrderDiscount, PaymentAttempt, Refund, ServiceCode, CartItem, AfterSale,
    Review, Complaint,
    CouponTemplate, CouponDistribution, Coupon, Redemption, CommissionEntry,
    MerchantLevelRule, MerchantMember, PointsAward, MerchantMemberDay,
    MerchantDailySales, MerchantDailyTraffic,
    MerchantPush, MerchantPushQuota, PushOptOut, PlatformPush, PlatformPushQuota,
    SettlementStatement, SettlementLine, SettlementItem,
    Campaign, CampaignParticipant, CampaignItem, CampaignQuota, CampaignUse,
    CampaignGroup, CampaignGroupMember,
    Cooperation, CooperationEvent,
    Lottery, LotteryPrize, LotteryEntrant, LotteryDraw,
    PlatformSettings, PolicyVersion,
    Backup,
]

# The columns that name uploads (an id, or JSON holding ids): an upload none of them names is
# purged once old enough (alliance.media.purge). A new column of upload ids belongs here.
UPLOAD_REFERENCES = [
    CatalogItem.images, CatalogItem.pending_changes,
    Merchant.licence_upload, Merchant.id_front_upload, Merchant.id_back_upload,
    Shop.logo_upload, Shop.photos,
    AfterSale.photos, Review.photos, Complaint.photos,
    PlatformSettings.logo_upload,
]
