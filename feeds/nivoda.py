"""The `nivoda` feed: Nivoda's GraphQL API."""

from feeds.base import FeedAdapter, register


@register
class NivodaFeed(FeedAdapter):
    name = "nivoda"
    supports_holds = True
    max_page_size = 50
