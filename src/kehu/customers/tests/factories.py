import factory

from kehu.accounts.tests.factories import UserFactory
from kehu.customers.models import Contact, Customer, CustomerKind
from kehu.customers.search import search_text_of


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Sequence(lambda n: f"客户{n}有限公司")
    kind = CustomerKind.BUSINESS
    owner = factory.SubFactory(UserFactory)
    # As every write path does (customers/search.py): the text the search index holds.
    search_text = factory.LazyAttribute(
        lambda customer: search_text_of(
            name=customer.name,
            city=getattr(customer, "city", ""),
            code=customer.code,
            phone=getattr(customer, "phone", ""),
        )
    )


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
