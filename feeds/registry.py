"""The feed adapters by feed name."""

from feeds import demo, nivoda
from feeds.base import FeedAdapter, FeedError, _registry

ADAPTERS = (demo.DemoFeed, nivoda.NivodaFeed)


def get_adapter(feed: str) -> FeedAdapter:
    try:
        return _registry[feed]()
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise FeedError(f"Unknown feed {feed!r}; known feeds: {known}.") from None
